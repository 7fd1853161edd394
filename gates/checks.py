"""Judging one check of a policy against one model's evidence.

Each check yields one CheckResult (gates.result; an entry of gate.json's `checks`) with an
outcome a reviewer can act on:

- pass: the bound the judge names shows the threshold at the confidence judged (or, for a
  check the policy marks `screen: true`, the point estimate meets it: screened, not shown);
- fail: the data point the wrong way (the point estimate misses the threshold, or a
  paired CI shows the drop);
- insufficient: the point estimate meets the threshold but the bound cannot show it, or
  too few items were judged, or the model's answers collapsed onto one option; the check
  says how many items would show it. It BLOCKs like a fail;
- reported: measured and shown, not gated (a cuda-gated check measured on a CPU).

A rate compared with the base model's (`rate_vs_base`) is judged in gates.rate_vs_base.

Missing, crashed or NaN evidence fails closed with the reason.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any

from gates.evidence import EvidenceError, ModelEvidence
from gates.paired import PairedDiff, pair_records, pair_scores, paired_diff
from gates.policy import Check, Policy
from gates.rate_vs_base import judge_rate_vs_base
from gates.result import CheckResult
from gates.review_check import judge_expert_agreement
from gates.sequential import settle_check, stopped_early
from gates.wording import collapse_sentence
from harness.core.records import Record
from harness.core.stats import n_needed_at_rate, prediction_spread, upper_bound
from harness.core.summaries import MetricEntry, finite

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
MAX_N_NEEDED = 10_000_000


def fmt(x: Any) -> str:
    v = finite(x)
    if v is None:
        return "NaN" if x is not None else "null"
    return f"{v:.4g}"


def _holds(value: float | None, op: str | None, threshold: float | None) -> bool:
    v = finite(value)
    return v is not None and op is not None and threshold is not None \
        and bool(OPS[op](v, float(threshold)))


@dataclass(frozen=True)
class Decision:
    """What a judge holds against its threshold: the number `compared` (a bound, or the
    point estimate of a screening judge), `op` and `threshold`, with the value, CI and
    bound it came from. `screen`: the compared number is a point estimate."""

    compared: float | None
    op: str | None
    threshold: float | None
    value: float | None = None
    ci: list[float | None] | None = None
    bound: str | None = None
    screen: bool = False

    @property
    def outcome(self) -> str:
        """pass, fail or insufficient: see the module docstring."""
        if _holds(self.compared, self.op, self.threshold):
            return "pass"
        if self.screen or not _holds(self.value, self.op, self.threshold):
            return "fail"
        return "insufficient"


def passes(decision: Decision) -> bool:
    """Whether a decision's compared number meets its threshold; NaN never passes."""
    return decision.outcome == "pass"


def paired_decision(check: Check, d: PairedDiff) -> Decision:
    """value, ci, bound, op, threshold and the number compared, for a paired judge.

    A pure function of the paired difference, so the statistics simulation exercises
    exactly the rule a gate applies.
    """
    lo, hi = d.ci
    if check.judge == "delta_vs_base":
        value, ci = -d.diff, [finite(-hi), finite(-lo)]
    else:
        value, ci = d.diff, [finite(lo), finite(hi)]
    value = finite(value)
    if check.judge == "non_inferior":
        # The checkpoint carries the burden: its CI must exclude a drop of `margin`.
        return Decision(ci[0], ">", -float(check.margin), value, ci, "ci_lower")
    if check.judge == "no_regression":
        # A screen: it blocks only when the CI shows a drop beyond `margin`.
        return Decision(ci[1], ">=", -float(check.margin), value, ci, "ci_upper", screen=True)
    idx = {"point": None, "ci_lower": 0, "ci_upper": 1}[check.bound or "point"]
    return Decision(value if idx is None else ci[idx], check.op, check.threshold, value, ci,
                    check.bound, screen=idx is None)


def _scaled_n_needed(n: int | None, decision: Decision) -> int | None:
    """Items for the bound to reach the threshold if the estimate stayed where it is.

    An interval's half-width shrinks as 1/sqrt(n), so n * (half-width / gap)^2, where the
    gap is the distance from the estimate to the threshold. An approximation, stated as one.
    """
    value, bound = finite(decision.value), finite(decision.compared)
    if not n or value is None or bound is None or decision.threshold is None:
        return None
    gap = abs(value - float(decision.threshold))
    if gap == 0:
        return None
    return min(MAX_N_NEEDED, math.ceil(n * ((value - bound) / gap) ** 2) + 1)


def _base_result(check: Check, policy: Policy, confidence: float,
                 model: ModelEvidence) -> CheckResult:
    return CheckResult(name=check.name, suite=check.suite, metric=check.metric,
                       judge=check.judge, value=None, op=check.op, threshold=check.threshold,
                       ci=None, compared=None, bound=check.bound, n=None,
                       min_n=policy.min_n_for(check), gated=True, passed=False,
                       outcome="fail", screened=check.screen, reason="", items=model.part,
                       confidence=confidence)


def _settle(result: CheckResult, decision: Decision, label: str) -> None:
    """outcome, passed and reason from a decision; NaN fails."""
    result.compared = decision.compared
    if finite(decision.compared) is None:
        result.outcome, result.passed = "fail", False
        result.reason = f"{label} is {fmt(decision.compared)}: cannot be judged"
        return
    outcome = decision.outcome
    result.outcome, result.passed = outcome, outcome == "pass"
    cmp = f"{label} {fmt(decision.compared)}"
    if outcome == "pass":
        result.reason = f"{cmp} {decision.op} {fmt(decision.threshold)}"
        if decision.screen:
            result.reason += " (screened, not shown: a point estimate)"
    elif outcome == "fail":
        shown = cmp if decision.screen else f"estimate {fmt(decision.value)}"
        result.reason = f"{shown} is not {decision.op} {fmt(decision.threshold)}"
    else:
        result.reason = (f"insufficient evidence: estimate {fmt(decision.value)} meets "
                         f"{decision.op} {fmt(decision.threshold)} but {cmp} does not show it "
                         f"at {fmt(result.confidence)} confidence")
        if result.n_needed:
            result.reason += f"; about n >= {result.n_needed} items would"


def _enough_items(result: CheckResult, n: int | None, what: str) -> bool:
    """Too few items (or none reported) cannot show anything: insufficient evidence."""
    min_n = result.min_n
    result.n = n
    if not min_n:
        return True
    if n is None:
        result.outcome, result.passed = "fail", False
        result.reason = f"{what} does not report n; min_n is {min_n}"
        return False
    if n < min_n:
        result.outcome, result.passed = "insufficient", False
        result.n_needed = min_n
        result.reason = (f"insufficient evidence: n={n} {what} < min_n={min_n} "
                         f"({result.items} items)")
        return False
    return True


def _exact_lower_floor(entry: MetricEntry) -> float | None:
    """A share's one-sided lower bound, never above the exact bound for its items.

    A bootstrap over items that all agree collapses (20 items all consistent give a lower
    bound of exactly 1, as 20,000 would): no bound may claim more than the exact
    (Clopper-Pearson) one for the misses seen among n independent items.
    """
    lower, value, n = finite(entry.lower95), finite(entry.value), entry.n
    if lower is None or value is None or not n or not 0 <= value <= 1:
        return lower
    confidence = entry.confidence or 0.95
    misses = math.ceil(round((1 - value) * n, 9))
    return min(lower, 1 - upper_bound(misses, n, confidence))


def _summary_decision(check: Check, entry: MetricEntry) -> tuple[Decision, str]:
    value = finite(entry.value)
    ci = [finite(c) for c in entry.ci] if entry.ci is not None and len(entry.ci) == 2 else None
    if check.judge == "point":
        return Decision(value, check.op, check.threshold, value, ci, None, screen=True), \
            check.metric
    if check.judge == "ci_upper":
        # A rate's exact one-sided bound is what a rare-event gate needs; an entry without
        # it falls back to the upper end of its two-sided CI.
        if entry.is_rate:
            return Decision(finite(entry.upper95), check.op, check.threshold, value, ci,
                            "ci_upper"), f"{check.metric} upper bound"
        return Decision(ci[1] if ci else None, check.op, check.threshold, value, ci,
                        "ci_upper"), f"{check.metric} CI upper"
    if entry.lower95 is not None:
        return Decision(_exact_lower_floor(entry), check.op, check.threshold, value, ci,
                        "ci_lower"), f"{check.metric} lower bound"
    return Decision(ci[0] if ci else None, check.op, check.threshold, value, ci,
                    "ci_lower"), f"{check.metric} CI lower"


def _summary_n_needed(check: Check, entry: MetricEntry, decision: Decision,
                      confidence: float) -> int | None:
    value = finite(entry.value)
    if value is None or check.threshold is None:
        return None
    if entry.is_rate and check.op in ("<", "<="):
        return n_needed_at_rate(value, float(check.threshold), confidence)
    clustered = entry.extra.get("n_records") not in (None, entry.n)
    if entry.direction == "higher_is_better" and check.op in (">", ">=") \
            and entry.lower95 is not None and not clustered:
        # The misses are the rare event: the same exact bound, mirrored.
        return n_needed_at_rate(1 - value, 1 - float(check.threshold), confidence)
    return _scaled_n_needed(entry.n, decision)


# Metrics that measure what a model knows: on answers collapsed onto one option they carry
# no information (a harm rate, such as choosing a dangerous option, still does).
SKILL_METRICS = ("accuracy", "macro_f1", "consistency")


def _judge_summary(check: Check, policy: Policy, result: CheckResult,
                   model: ModelEvidence) -> None:
    entry = model.metric(check.suite, check.metric, result.confidence)
    records = model.records(check.suite)  # the items behind the number, to review
    result.value = finite(entry.value)
    ci = entry.ci
    result.ci = [finite(c) for c in ci] if ci is not None and len(ci) == 2 else None
    if entry.is_rate:
        result.upper95 = finite(entry.upper95)
        if entry.events is not None:
            result.events = entry.events
    if result.value is None:
        result.reason = (f"{check.suite}.{check.metric} is {fmt(entry.value)} "
                         "(NaN or not measured)")
        return
    if not _enough_items(result, entry.n, f"items in {check.suite}"):
        return
    decision, label = _summary_decision(check, entry)
    if result.ci is None and not check.screen and decision.compared is None:
        result.reason = (f"{check.suite}.{check.metric} has no interval to judge "
                         f"'{check.judge}' on")
        return
    if not check.screen:
        result.n_needed = _summary_n_needed(check, entry, decision, result.confidence)
    _settle(result, decision, label)
    if check.metric.split(".")[0] in SKILL_METRICS:
        _no_information(result, records, policy)


def degenerate_spread(records: list[Record], share: float) -> dict[str, Any] | None:
    """The spread of the model's chosen options when they collapsed onto one option
    (None when they did not, or the records are not multiple choice)."""
    chosen = [r for r in records if r.choice_logprobs]
    if not chosen:
        return None
    spread = prediction_spread([r.pred for r in chosen], gold=[r.gold for r in chosen],
                               degenerate_share=share)
    if not spread["degenerate"]:
        return None
    return {k: spread[k] for k in ("modal", "modal_share", "entropy_bits",
                                    "normalized_entropy", "gold_share_of_modal", "n")}


def _judge_paired(check: Check, policy: Policy, result: CheckResult,
                  model: ModelEvidence, base: ModelEvidence | None) -> None:
    if base is None:
        raise EvidenceError(f"no base model evaluation to pair with for suite '{check.suite}'")
    base.suite(check.suite)  # a crashed or missing base suite fails with its own reason
    model.suite(check.suite)
    if check.score is not None:
        sample = pair_scores(model.records(check.suite), base.records(check.suite),
                             check.score, model_label=model.label, base_label=base.label)
    else:
        sample = pair_records(model.records(check.suite), base.records(check.suite),
                              variants=check.variants, model_label=model.label,
                              base_label=base.label)
    d = paired_diff(sample.model, sample.base, n_boot=policy.n_boot, seed=policy.seed,
                    confidence=result.confidence, unpaired_model=sample.unpaired_model,
                    unpaired_base=sample.unpaired_base, clusters=sample.items)
    result.acc_model, result.acc_base = finite(d.acc_model), finite(d.acc_base)
    result.n_paired, result.only_model, result.only_base = d.n, d.only_model, d.only_base
    result.mcnemar_p = finite(d.mcnemar_p)
    result.unpaired_model, result.unpaired_base = sample.unpaired_model, sample.unpaired_base
    result.baseline = base.label
    if not _enough_items(result, d.n, f"paired items in {check.suite}"):
        return
    decision = paired_decision(check, d)
    result.value, result.ci, result.bound = decision.value, decision.ci, decision.bound
    result.op, result.threshold = decision.op, decision.threshold
    if not decision.screen:
        result.n_needed = _scaled_n_needed(d.n, decision)
    bound = {"ci_lower": "CI lower", "ci_upper": "CI upper"}.get(result.bound or "", "")
    name = "Δ (base - model)" if check.judge == "delta_vs_base" else "model - base"
    _settle(result, decision, f"{name}{' ' + bound if bound else ''}")
    what = f"mean {check.score}" if check.score else "acc"
    result.reason += (f" ({what} {fmt(d.acc_model)} vs {fmt(d.acc_base)}, n={d.n} paired items"
                      + (f", {d.n_records} records" if d.n_records != d.n else "")
                      + ("" if check.score else f", McNemar p={fmt(d.mcnemar_p)}") + ")")
    if sample.unpaired_model or sample.unpaired_base:
        result.reason += (f"; unpaired: {sample.unpaired_model} model-only, "
                          f"{sample.unpaired_base} base-only items")
    _no_information(result, sample.model_records, policy)


def _no_information(result: CheckResult, records: list[Record], policy: Policy) -> None:
    """A would-be pass on answers collapsed onto one option is insufficient evidence."""
    spread = degenerate_spread(records, policy.degenerate_share)
    if spread is None:
        return
    result.degenerate = spread
    if result.outcome == "pass":
        result.outcome, result.passed = "insufficient", False
        result.reason = (f"insufficient evidence: {collapse_sentence(spread)}; the numbers "
                         f"would have passed: {result.reason}")


def _judge_stopped_suite(check: Check, policy: Policy, result: CheckResult,
                         model: ModelEvidence, base: ModelEvidence | None,
                         device: str | None) -> None:
    """A check on a suite whose sequential scoring stopped before its plan ran out takes
    the outcome its settlement shows for the planned items (gates.sequential); one not
    settled on the items scored (a policy other than the one the scoring stopped for)
    fails closed as insufficient evidence."""
    stopped = stopped_early(model, check.suite)
    if stopped is None:
        return
    scored, planned = stopped
    settlement = settle_check(check, policy, model, planned, confidence=result.confidence,
                              device=device if device is not None else model.device(),
                              base=base)
    result.sequential = {"scored": scored, "planned": planned,
                         "rule": settlement.rule if settlement else None}
    if settlement is None:
        result.outcome, result.passed = "insufficient", False
        result.reason = (f"scoring of {check.suite} stopped after {scored} of {planned} "
                         f"planned items and this check is not settled on them; evaluate "
                         f"again with --exhaustive to judge it ({result.reason})")
        return
    if settlement.outcome == "reported":
        return  # the cuda rule below words it
    result.outcome, result.passed = settlement.outcome, settlement.outcome == "pass"
    result.reason = f"{settlement.reason} ({settlement.rule}; sequential evaluation)"


def evaluate_check(check: Check, policy: Policy, model: ModelEvidence,
                   base: ModelEvidence | None, *, confidence: float | None = None) -> CheckResult:
    """One gate.json check entry for `model` (paired checks compare it with `base`), judged
    on the items `model` restricts to, at `confidence` (default: the policy's)."""
    result = _base_result(check, policy, confidence or policy.confidence, model)
    device = None
    if check.gate_on == "cuda":
        device = model.device()
        result.device = device
    try:
        if check.judge == "rate_vs_base":
            judge_rate_vs_base(check, policy, result, model, base)
        elif check.judge == "expert_agreement":
            judge_expert_agreement(check, policy, result, model)
        elif check.paired:
            _judge_paired(check, policy, result, model, base)
        else:
            _judge_summary(check, policy, result, model)
    except EvidenceError as exc:
        result.outcome, result.passed = "fail", False
        result.reason = str(exc)
    if check.judge != "expert_agreement":
        _judge_stopped_suite(check, policy, result, model, base, device)
    if check.judge != "expert_agreement" and model.adjudicated(check.suite):
        result.reason += (f" [{model.adjudicated(check.suite)} record(s) of {check.suite} "
                          "carry medical reviewers' labels in place of the judge's]")
    if check.gate_on == "cuda":
        if device is None:
            # Fail closed: a run whose device nobody recorded may have been a GPU run.
            result.outcome, result.passed = "fail", False
            result.reason = ("the device is unknown (no suite and no run manifest records "
                             f"it), so a check gated on cuda cannot be waived: {result.reason}")
        elif device != "cuda":
            outcome = {"pass": "would pass", "insufficient": "insufficient evidence"}.get(
                result.outcome, "would fail")
            result.gated, result.passed, result.outcome = False, None, "reported"
            result.reason = (f"reported only: measured on {device}, gated on cuda "
                             f"({outcome}: {result.reason})")
    return result
