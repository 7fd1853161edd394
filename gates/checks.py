"""Judging one check of a policy against one model's evidence.

Each check yields one result dict (the entry of gate.json's `checks` list): the value,
the number actually compared with the threshold (a point estimate or a bound), the CI,
`passed` and a reason a reviewer can read without the code. `passed` is None only for a
check that is reported and not gated (latency on a CPU-only machine); any evidence that
is missing, crashed, NaN or too small makes `passed` False with that reason.
"""

from __future__ import annotations

import math
import operator
from typing import Any

from gates.evidence import EvidenceError, ModelEvidence
from gates.paired import PairedDiff, pair_records, paired_diff
from gates.policy import Check, Policy
from harness.core.stats import n_needed

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _finite(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x + 0.0  # + 0.0 turns -0.0 into 0.0


def fmt(x: Any) -> str:
    v = _finite(x)
    if v is None:
        return "NaN" if x is not None else "null"
    return f"{v:.4g}"


class CheckResult(dict):
    """A gate.json check entry. It stays a dict because entries are open-ended (paired
    checks add McNemar and pairing counts); attributes (`c.name`, `c.passed`, `c.reason`)
    read the same keys for code that prefers them."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError as exc:
            raise AttributeError(key) from exc


def _base_result(check: Check, policy: Policy) -> CheckResult:
    return CheckResult({
        "name": check.name, "suite": check.suite, "metric": check.metric,
        "judge": check.judge, "value": None, "op": check.op, "threshold": check.threshold,
        "ci": None, "compared": None, "bound": check.bound, "n": None,
        "min_n": policy.min_n_for(check), "gated": True, "passed": False, "reason": "",
    })


def _compare(result: dict[str, Any], label: str) -> None:
    """Set passed/reason from result['compared'] op threshold; NaN fails."""
    compared, op, threshold = result["compared"], result["op"], result["threshold"]
    if _finite(compared) is None:
        result["passed"] = False
        result["reason"] = f"{label} is {fmt(compared)}: cannot be judged"
        return
    ok = passes(result)
    result["passed"] = ok
    result["reason"] = (f"{label} {fmt(compared)} {op} {fmt(threshold)}" if ok
                        else f"{label} {fmt(compared)} is not {op} {fmt(threshold)}")


def _check_n(result: dict[str, Any], n: Any, what: str) -> bool:
    """Fail closed on a suite smaller than min_n (or one that does not report n)."""
    min_n = result["min_n"]
    result["n"] = n
    if not min_n:
        return True
    if not isinstance(n, int) or isinstance(n, bool):
        result["passed"] = False
        result["reason"] = f"{what} does not report n; min_n is {min_n}"
        return False
    if n < min_n:
        result["passed"] = False
        result["reason"] = f"n={n} {what} < min_n={min_n}: too few to judge"
        return False
    return True


def _judge_summary(check: Check, result: dict[str, Any], model: ModelEvidence) -> None:
    entry = model.metric(check.suite, check.metric)
    model.records(check.suite)  # the items behind the number must be there to review
    value = entry.get("value")
    result["value"] = _finite(value)
    ci = entry.get("ci")
    result["ci"] = [_finite(c) for c in ci] if isinstance(ci, list | tuple) and len(ci) == 2 \
        else None
    if "upper95" in entry:
        result["upper95"] = _finite(entry.get("upper95"))
        if "events" in entry:
            result["events"] = entry["events"]
        if check.op in ("<", "<=") and check.threshold is not None:
            events = entry.get("events") if isinstance(entry.get("events"), int) else 0
            result["n_needed"] = n_needed(float(check.threshold), events=events)
    if _finite(value) is None:
        result["passed"] = False
        result["reason"] = f"{check.suite}.{check.metric} is {fmt(value)} (NaN or not measured)"
        return
    if not _check_n(result, entry.get("n"), f"items in {check.suite}"):
        return
    label = f"{check.metric}"
    if check.judge == "point":
        result["compared"] = result["value"]
    elif check.judge == "ci_upper":
        # A rate entry's one-sided exact 95% bound is what a rare-event gate needs; an
        # entry without it falls back to the upper end of its two-sided CI.
        if "upper95" in entry:
            result["compared"], label = result.get("upper95"), f"{check.metric} upper95"
        else:
            result["compared"] = result["ci"][1] if result["ci"] else None
            label = f"{check.metric} CI upper"
    else:
        result["compared"] = result["ci"][0] if result["ci"] else None
        label = f"{check.metric} CI lower"
    _compare(result, label)
    needed = result.get("n_needed")
    if not needed:
        return
    if not result["passed"]:
        result["reason"] += (f" (n={result['n']}; showing < {fmt(check.threshold)} at 95% "
                             f"needs n >= {needed})")
    elif check.judge == "point" and (_finite(result.get("upper95")) or 0) >= check.threshold:
        # Passing on the point estimate is not evidence the rate is below the threshold.
        result["reason"] += (f" (point estimate only: upper95 {fmt(result['upper95'])} at "
                             f"n={result['n']}; showing < {fmt(check.threshold)} needs "
                             f"n >= {needed})")


def paired_decision(check: Check, d: PairedDiff) -> dict[str, Any]:
    """value, ci, bound, op, threshold and the number compared, for a paired judge.

    A pure function of the paired difference, so the statistics simulation exercises
    exactly the rule a gate applies.
    """
    lo, hi = d.ci
    if check.judge == "delta_vs_base":
        value, ci = -d.diff, [_finite(-hi), _finite(-lo)]
    else:
        value, ci = d.diff, [_finite(lo), _finite(hi)]
    out: dict[str, Any] = {"value": _finite(value), "ci": ci, "op": check.op,
                           "threshold": check.threshold, "bound": check.bound}
    if check.judge == "non_inferior":
        # The checkpoint carries the burden: its CI must exclude a drop of `margin`.
        out.update(op=">", threshold=-float(check.margin), bound="ci_lower", compared=ci[0])
    elif check.judge == "no_regression":
        # Blocks only when the CI shows a drop beyond `margin`.
        out.update(op=">=", threshold=-float(check.margin), bound="ci_upper", compared=ci[1])
    else:
        idx = {"point": None, "ci_lower": 0, "ci_upper": 1}[check.bound or "point"]
        out["compared"] = out["value"] if idx is None else ci[idx]
    return out


def passes(decision: dict[str, Any]) -> bool:
    """Whether a decision's compared number meets its threshold; NaN never passes."""
    compared = _finite(decision["compared"])
    return compared is not None and bool(OPS[decision["op"]](compared,
                                                             float(decision["threshold"])))


def _judge_paired(check: Check, policy: Policy, result: dict[str, Any],
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
    result.update({"acc_model": _finite(d.acc_model), "acc_base": _finite(d.acc_base),
                   "n_paired": d.n, "only_model": d.only_model, "only_base": d.only_base,
                   "mcnemar_p": _finite(d.mcnemar_p), "unpaired_model": un_m,
                   "unpaired_base": un_b, "baseline": base.label})
    if not _check_n(result, d.n, f"paired items in {check.suite}"):
        return
    result.update(paired_decision(check, d))
    bound = {"ci_lower": "CI lower", "ci_upper": "CI upper"}.get(result["bound"] or "", "")
    name = "Δ (base - model)" if check.judge == "delta_vs_base" else "model - base"
    _compare(result, f"{name}{' ' + bound if bound else ''}")
    result["reason"] += (f" (acc {fmt(d.acc_model)} vs {fmt(d.acc_base)}, n={d.n} paired, "
                         f"McNemar p={fmt(d.mcnemar_p)})")
    if un_m or un_b:
        result["reason"] += f"; unpaired: {un_m} model-only, {un_b} base-only items"


def evaluate_check(check: Check, policy: Policy, model: ModelEvidence,
                   base: ModelEvidence | None) -> CheckResult:
    """One gate.json check entry for `model` (paired checks compare it with `base`)."""
    result = _base_result(check, policy)
    gated = True
    if check.gate_on == "cuda":
        device = model.device()
        gated = device == "cuda"
        result["device"] = device
    try:
        if check.paired:
            _judge_paired(check, policy, result, model, base)
        else:
            _judge_summary(check, result, model)
    except EvidenceError as exc:
        result["passed"] = False
        result["reason"] = str(exc)
    if not gated:
        outcome = "would pass" if result["passed"] else "would fail"
        result["gated"] = False
        result["passed"] = None
        result["reason"] = (f"reported only: measured on {result.get('device') or 'an unknown device'},"
                            f" gated on cuda ({outcome}: {result['reason']})")
    return result
