"""The words every gate document uses for a check's outcome, the item split and a collapsed
benchmark.

JUnit, summary.md, the console table and the reports all describe the same gate.json. Had
each phrased a check on its own, one of them would sooner or later call an insufficient
check a failure, or a screened pass a pass, or forget which items confirmed the verdict;
so the phrases live here, once, and every document takes them from here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gates.result import CheckpointVerdict, CheckResult, GateResult, ItemPart, Outcome, SplitRecord

SCREENED = "screened, not shown"
INSUFFICIENT = "insufficient evidence"
NO_INFORMATION = "the benchmark carried no information about this model"
ITEMS = {"selection": "the selection items", "confirmation": "the confirmation items",
         "all": "all items"}


def num(x: Any) -> str:
    """A number as documents print it (4 significant digits; "—" for none or NaN)."""
    if x is None or isinstance(x, bool):
        return "—" if x is None else str(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "—"
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.4g}"


def percent(share: Any) -> str:
    """A share in [0, 1] as a percentage ("97%", "98.3%")."""
    try:
        return f"{float(share) * 100:.3g}%"
    except (TypeError, ValueError):
        return "—"


def outcome_of(check: CheckResult) -> Outcome:
    """The outcome a document shows for a check.

    It agrees with `CheckpointVerdict.failed` (gated and not passed), so that no document
    can count a check differently from the verdict: a check that is not gated is reported;
    a gated one passes only when `passed` is True and its outcome says pass (a gate.json
    written before outcomes existed has only `passed`); an insufficient one stays
    insufficient; anything else, contradictions included, is a failure (fail closed).
    """
    if not check.gated:
        return "reported"
    if check.outcome == "insufficient":
        return "insufficient"
    recorded = "outcome" in check.model_fields_set
    if check.passed is True and (check.outcome == "pass" or not recorded):
        return "pass"
    return "fail"


def is_screened_pass(check: CheckResult) -> bool:
    return outcome_of(check) == "pass" and check.screened


def needed(check: CheckResult) -> str:
    """"n needed N": how many items would show the threshold."""
    return f"n needed {check.n_needed}" if check.n_needed is not None else "n needed not recorded"


def result_label(check: CheckResult) -> str:
    """The result column: pass, FAIL, INSUFFICIENT (n needed N), pass (screened, not shown)
    or reported."""
    outcome = outcome_of(check)
    if outcome == "pass":
        return f"pass ({SCREENED})" if check.screened else "pass"
    if outcome == "insufficient":
        return f"INSUFFICIENT ({needed(check)})"
    return "FAIL" if outcome == "fail" else "reported"


def insufficient_message(check: CheckResult) -> str:
    """Why an insufficient check blocks, beginning "insufficient evidence:"."""
    parts = [needed(check)]
    if check.n is not None:
        parts.append(f"judged on {check.n} items")
    if check.compared is not None and check.op and check.threshold is not None:
        at = f" at {percent(check.confidence)} confidence" if check.confidence else ""
        parts.append(f"bound {num(check.compared)} does not show {check.op} "
                     f"{num(check.threshold)}{at}")
    text = f"{INSUFFICIENT}: " + "; ".join(parts)
    return f"{text} ({check.reason})" if check.reason else text


def screened_message(check: CheckResult) -> str:
    """Why a screened pass is not evidence that the threshold holds."""
    text = f"{SCREENED}: passed on the point estimate by the policy's choice"
    return f"{text} ({check.reason})" if check.reason else text


def collapse_sentence(spread: Mapping[str, Any] | None) -> str | None:
    """"answers collapsed onto <modal> (<share>% of n, entropy <bits> bits): the benchmark
    carried no information about this model", or None when there is nothing to say.

    `spread` has modal, modal_share (or value), entropy_bits and n, as a check's
    `degenerate` or a summary's `answer_spread` entry carries them.
    """
    if not spread:
        return None
    share = spread.get("modal_share", spread.get("value"))
    n = spread.get("n")
    if n is None and isinstance(spread.get("counts"), Mapping):
        n = sum(v for v in spread["counts"].values() if isinstance(v, int))
    return (f"answers collapsed onto {spread.get('modal', '?')} ({percent(share)} of "
            f"{num(n)}, entropy {num(spread.get('entropy_bits'))} bits): {NO_INFORMATION}")


def collapse_line(check: CheckResult) -> str | None:
    return collapse_sentence(check.degenerate)


MCNEMAR_SIDES = {"less": "one-sided, model lower", "greater": "one-sided, model higher"}


def versus_base_line(check: CheckResult) -> str | None:
    """A rate_vs_base check in one line: base vs checkpoint rates on the paired requests,
    McNemar's p (and which side it tests) and the result; None for any other check."""
    if check.judge != "rate_vs_base":
        return None
    sides = MCNEMAR_SIDES.get(check.mcnemar_alternative or "", "not computed")
    return (f"{check.metric} base {num(check.rate_base)} vs checkpoint "
            f"{num(check.rate_model)} on {num(check.n_paired)} paired requests "
            f"({num(check.only_model)} only checkpoint, {num(check.only_base)} only base), "
            f"McNemar p {num(check.mcnemar_p)} ({sides}): {result_label(check)}")


def split_recorded(split: SplitRecord) -> bool:
    """Whether gate.json says how items were split (a file from before the split does not)."""
    return (not split.enabled or bool(split.method or split.items)
            or split.confirm_fraction is not None)


def verdict_part(result: GateResult, verdict: CheckpointVerdict) -> ItemPart | None:
    """Which items a verdict was judged on: what its checks say, else what the split says."""
    parts = {c.items for c in verdict.checks if c.items}
    if len(parts) == 1:
        return parts.pop()
    if verdict is result.confirmation:
        return "confirmation"
    if not split_recorded(result.split):
        return None
    return "selection" if result.split.enabled else "all"


def split_statement(result: GateResult) -> str:
    """Which items chose the checkpoint and which confirmed it, in one paragraph."""
    split = result.split
    k = split.candidates or len(result.checkpoints)
    if not split_recorded(split):
        return "gate.json records no item split: which items judged the verdict is not stated."
    if not split.enabled:
        conf = f"{percent(split.confidence)} confidence" if split.confidence else \
            "the policy's confidence"
        how = ("Bonferroni-corrected for" if split.correction == "bonferroni"
               else "with no correction for")
        return (f"No split: every candidate was judged on all items at {conf}, {how} the "
                f"{k} candidate(s) judged; the selected candidate's verdict is the run's.")
    text = (f"Items split by {split.method or 'an unnamed method'}: a share of "
            f"{num(split.confirm_fraction)} of each suite's items confirms, the rest select. "
            f"The {k} candidate(s) were judged and ranked on the selection items")
    if result.chosen and result.confirmation is not None:
        text += (f"; the chosen checkpoint, {result.chosen}, was judged again on the "
                 "confirmation items, which took no part in choosing it, and that verdict is "
                 "the run's.")
    else:
        text += "; no candidate was chosen, so nothing was confirmed."
    return text


def split_counts(split: SplitRecord) -> list[tuple[str, int | None, int | None]]:
    """(suite, selection items, confirmation items) for every suite the split records."""
    return [(suite, c.get("selection"), c.get("confirmation"))
            for suite, c in split.items.items()]


# What each result means, for the legend of every document that shows the result column.
LEGEND = (
    ("pass", "the data showed the threshold at the stated confidence"),
    ("FAIL", ("the threshold was not met, or its evidence was missing, crashed or unusable "
             "(the gate fails closed)")),
    ("INSUFFICIENT (n needed N)", ("the data cannot show the threshold at the stated "
                                  "confidence: not a failure of the model and not a pass; it "
                                  "blocks, and N items would be needed to show it")),
    (f"pass ({SCREENED})", ("passed on a point estimate because the policy chose to screen "
                           "this check; the threshold was not shown")),
    ("reported", "measured and shown, not gated"),
)
