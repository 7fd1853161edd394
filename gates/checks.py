"""Judging one check of a policy against one model's evidence.

Each check yields one CheckResult (gates.result; an entry of gate.json's `checks`): the value,
the number actually compared with the threshold (a point estimate or a bound), the CI,
`passed` and a reason a reviewer can read without the code. `passed` is None only for a
check that is reported and not gated (latency on a CPU-only machine); any evidence that
is missing, crashed, NaN or too small makes `passed` False with that reason.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

from gates.evidence import EvidenceError, ModelEvidence
from gates.paired import PairedDiff, pair_records, paired_diff
from gates.policy import Check, Policy
from gates.result import CheckResult
from harness.core.stats import n_needed
from harness.core.summaries import finite

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def fmt(x: Any) -> str:
    v = finite(x)
    if v is None:
        return "NaN" if x is not None else "null"
    return f"{v:.4g}"


def _base_result(check: Check, policy: Policy) -> CheckResult:
    return CheckResult(name=check.name, suite=check.suite, metric=check.metric,
                       judge=check.judge, value=None, op=check.op, threshold=check.threshold,
                       ci=None, compared=None, bound=check.bound, n=None,
                       min_n=policy.min_n_for(check), gated=True, passed=False, reason="")


def _compare(result: CheckResult, label: str) -> None:
    """Set passed/reason from result.compared op threshold; NaN fails."""
    compared, op, threshold = result.compared, result.op, result.threshold
    if finite(compared) is None:
        result.passed = False
        result.reason = f"{label} is {fmt(compared)}: cannot be judged"
        return
    ok = passes(Decision(compared=compared, op=op, threshold=threshold))
    result.passed = ok
    result.reason = (f"{label} {fmt(compared)} {op} {fmt(threshold)}" if ok
                     else f"{label} {fmt(compared)} is not {op} {fmt(threshold)}")


def _check_n(result: CheckResult, n: int | None, what: str) -> bool:
    """Fail closed on a suite smaller than min_n (or one that does not report n)."""
    min_n = result.min_n
    result.n = n
    if not min_n:
        return True
    if n is None:
        result.passed = False
        result.reason = f"{what} does not report n; min_n is {min_n}"
        return False
    if n < min_n:
        result.passed = False
        result.reason = f"n={n} {what} < min_n={min_n}: too few to judge"
        return False
    return True


def _judge_summary(check: Check, result: CheckResult, model: ModelEvidence) -> None:
    entry = model.metric(check.suite, check.metric)
    model.records(check.suite)  # the items behind the number must be there to review
    result.value = finite(entry.value)
    ci = entry.ci
    result.ci = [finite(c) for c in ci] if ci is not None and len(ci) == 2 else None
    if entry.is_rate:
        result.upper95 = finite(entry.upper95)
        if entry.events is not None:
            result.events = entry.events
        if check.op in ("<", "<=") and check.threshold is not None:
            result.n_needed = n_needed(float(check.threshold), events=entry.events or 0)
    if result.value is None:
        result.passed = False
        result.reason = (f"{check.suite}.{check.metric} is {fmt(entry.value)} "
                         "(NaN or not measured)")
        return
    if not _check_n(result, entry.n, f"items in {check.suite}"):
        return
    label = f"{check.metric}"
    if check.judge == "point":
        result.compared = result.value
    elif check.judge == "ci_upper":
        # A rate entry's one-sided exact 95% bound is what a rare-event gate needs; an
        # entry without it falls back to the upper end of its two-sided CI.
        if entry.is_rate:
            result.compared, label = result.upper95, f"{check.metric} upper95"
        else:
            result.compared = result.ci[1] if result.ci else None
            label = f"{check.metric} CI upper"
    else:
        result.compared = result.ci[0] if result.ci else None
        label = f"{check.metric} CI lower"
    _compare(result, label)
    needed = result.n_needed
    if not needed:
        return
    if not result.passed:
        result.reason += (f" (n={result.n}; showing < {fmt(check.threshold)} at 95% "
                          f"needs n >= {needed})")
    elif check.judge == "point" and (finite(result.upper95) or 0) >= check.threshold:
        # Passing on the point estimate is not evidence the rate is below the threshold.
        result.reason += (f" (point estimate only: upper95 {fmt(result.upper95)} at "
                          f"n={result.n}; showing < {fmt(check.threshold)} needs "
                          f"n >= {needed})")


@dataclass(frozen=True)
class Decision:
    """What a paired judge holds against its threshold: the number `compared`, `op` and
    `threshold`, with the value, CI and bound it came from."""

    compared: float | None
    op: str | None
    threshold: float | None
    value: float | None = None
    ci: list[float | None] | None = None
    bound: str | None = None


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
        # Blocks only when the CI shows a drop beyond `margin`.
        return Decision(ci[1], ">=", -float(check.margin), value, ci, "ci_upper")
    idx = {"point": None, "ci_lower": 0, "ci_upper": 1}[check.bound or "point"]
    return Decision(value if idx is None else ci[idx], check.op, check.threshold, value, ci,
                    check.bound)


def passes(decision: Decision) -> bool:
    """Whether a decision's compared number meets its threshold; NaN never passes."""
    compared = finite(decision.compared)
    return compared is not None and decision.op is not None \
        and decision.threshold is not None \
        and bool(OPS[decision.op](compared, float(decision.threshold)))


def _judge_paired(check: Check, policy: Policy, result: CheckResult,
                  model: ModelEvidence, base: ModelEvidence | None) -> None:
    if base is None:
        raise EvidenceError(f"no base model evaluation to pair with for suite '{check.suite}'")
    base.suite(check.suite)  # a crashed or missing base suite fails with its own reason
    model.suite(check.suite)
    x, y, un_m, un_b = pair_records(model.records(check.suite), base.records(check.suite),
                                    variants=check.variants, model_label=model.label,
                                    base_label=base.label)
    d = paired_diff(x, y, n_boot=policy.n_boot, seed=policy.seed,
                    confidence=policy.confidence, unpaired_model=un_m, unpaired_base=un_b)
    result.acc_model, result.acc_base = finite(d.acc_model), finite(d.acc_base)
    result.n_paired, result.only_model, result.only_base = d.n, d.only_model, d.only_base
    result.mcnemar_p = finite(d.mcnemar_p)
    result.unpaired_model, result.unpaired_base = un_m, un_b
    result.baseline = base.label
    if not _check_n(result, d.n, f"paired items in {check.suite}"):
        return
    decision = paired_decision(check, d)
    result.value, result.ci, result.bound = decision.value, decision.ci, decision.bound
    result.op, result.threshold = decision.op, decision.threshold
    result.compared = decision.compared
    bound = {"ci_lower": "CI lower", "ci_upper": "CI upper"}.get(result.bound or "", "")
    name = "Δ (base - model)" if check.judge == "delta_vs_base" else "model - base"
    _compare(result, f"{name}{' ' + bound if bound else ''}")
    result.reason += (f" (acc {fmt(d.acc_model)} vs {fmt(d.acc_base)}, n={d.n} paired, "
                      f"McNemar p={fmt(d.mcnemar_p)})")
    if un_m or un_b:
        result.reason += f"; unpaired: {un_m} model-only, {un_b} base-only items"


def evaluate_check(check: Check, policy: Policy, model: ModelEvidence,
                   base: ModelEvidence | None) -> CheckResult:
    """One gate.json check entry for `model` (paired checks compare it with `base`)."""
    result = _base_result(check, policy)
    gated = True
    if check.gate_on == "cuda":
        device = model.device()
        gated = device == "cuda"
        result.device = device
    try:
        if check.paired:
            _judge_paired(check, policy, result, model, base)
        else:
            _judge_summary(check, result, model)
    except EvidenceError as exc:
        result.passed = False
        result.reason = str(exc)
    if not gated:
        outcome = "would pass" if result.passed else "would fail"
        result.gated = False
        result.passed = None
        result.reason = (f"reported only: measured on {result.device or 'an unknown device'},"
                         f" gated on cuda ({outcome}: {result.reason})")
    return result
