"""The `expert_agreement` check: the judge must agree with the medical reviewers.

A rate is only as good as the judge that labels its records. When medical experts have
reviewed a sample of the records (gates.review), Cohen's kappa between the judge's label
and the experts' on those records measures that judge; a policy can require it to be
shown above a minimum: the lower end of kappa's bootstrap CI at the policy's confidence
must meet the threshold.

Fails closed: a policy that requires agreement on a run nobody reviewed fails the check
(it is not skipped), as does a kappa without a value (every label in one class); a kappa
whose estimate meets the threshold but whose lower bound does not is insufficient
evidence. The judge is the same whichever model answered, so reviewed records of every
model of the run count, on every part of the split.
"""

from __future__ import annotations

from gates.evidence import ModelEvidence
from gates.policy import Check, Policy
from gates.result import CheckResult
from gates.review import judged_pairs, read_reviews
from harness.core.rundir import RunDir
from harness.core.stats import cohen_kappa_ci


def _fmt(x: float | None) -> str:
    return "null" if x is None else f"{x:.3g}"


def judge_expert_agreement(check: Check, policy: Policy, result: CheckResult,
                           model: ModelEvidence) -> None:
    """Fill `result` with kappa, its CI, the lower bound compared and the outcome."""
    run = RunDir(model.eval_dir.parent.parent)
    pairs = judged_pairs(run, read_reviews(run), check.metric, check.suite)
    result.bound = "ci_lower"
    result.n = len(pairs)
    if not pairs:
        result.reason = (f"no fresh expert review of '{check.metric}' on suite '{check.suite}': "
                         f"the policy requires judge-expert agreement >= {check.threshold} "
                         "(`medgate review sample`, then `medgate review import`)")
        return
    min_n = result.min_n or 0
    kappa = cohen_kappa_ci([j for _, j, _ in pairs], [e for _, _, e in pairs],
                           n_boot=policy.n_boot, seed=policy.seed,
                           confidence=1 - 2 * (1 - result.confidence))
    result.value, result.ci = kappa.value, list(kappa.ci)
    result.compared = kappa.ci[0]
    what = (f"judge-expert kappa on {check.suite}.{check.metric} over {kappa.n} reviewed "
            f"records (raw agreement {_fmt(kappa.agreement)})")
    if kappa.value is None:
        result.reason = f"{what} has no value: judge and experts put every record in one class"
        return
    meets = kappa.value >= check.threshold if check.op == ">=" else kappa.value > check.threshold
    lower = kappa.ci[0]
    shown = lower is not None and (lower >= check.threshold if check.op == ">="
                                   else lower > check.threshold)
    if not meets:
        result.reason = f"{what}: kappa {_fmt(kappa.value)} is not {check.op} {check.threshold}"
    elif len(pairs) < min_n:
        result.outcome = "insufficient"
        result.n_needed = min_n
        result.reason = (f"insufficient evidence: {what}; n={len(pairs)} reviewed records "
                         f"< min_n={min_n}")
    elif not shown:
        result.outcome = "insufficient"
        result.reason = (f"insufficient evidence: {what}: kappa {_fmt(kappa.value)} meets "
                         f"{check.op} {check.threshold} but its lower bound {_fmt(lower)} "
                         f"does not show it at {result.confidence:.4g} confidence")
    else:
        result.outcome, result.passed = "pass", True
        result.reason = (f"{what}: kappa lower bound {_fmt(lower)} {check.op} "
                         f"{check.threshold}")
