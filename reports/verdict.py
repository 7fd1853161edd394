"""The gate's verdict as the reports show it: each check in the gate documents' words, the
verdicts in the order that matters (the confirmation first), the item split, and the
benchmarks that told nothing about the described model.

The model card's three formats and the checklist read these rows, and the words come from
`gates.wording`, so a check cannot be a pass on one page and insufficient on another.
"""

from __future__ import annotations

from typing import Any

from gates.result import CheckpointVerdict, CheckResult
from gates.wording import (
    ITEMS,
    collapse_line,
    outcome_of,
    percent,
    result_label,
    split_counts,
    split_recorded,
    split_statement,
    verdict_part,
)
from reports.rundata import RunData


def check_row(check: CheckResult) -> dict[str, Any]:
    """One check as every card format shows it, in the gate documents' words."""
    outcome = outcome_of(check)
    css = "screened" if outcome == "pass" and check.screened else outcome
    return {"name": check.name, "metric": f"{check.suite}.{check.metric}" if check.suite
            else check.metric, "value": check.value, "op": check.op,
            "threshold": check.threshold, "ci": check.ci, "n": check.n,
            "compared": check.compared, "outcome": outcome, "css": css,
            "label": result_label(check), "screened": check.screened,
            "n_needed": check.n_needed, "reason": check.reason,
            "collapsed": collapse_line(check)}


def gate_tables(data: RunData) -> list[dict[str, Any]]:
    """The verdict first (the chosen checkpoint on the confirmation items), then every
    candidate on the items that chose."""
    if data.gate is None:
        return []
    gate = data.gate
    judged: list[tuple[str, CheckpointVerdict, bool]] = []
    if gate.confirmation is not None:
        judged.append((gate.confirmation.tag or gate.chosen or "chosen", gate.confirmation, True))
    judged += [(tag, v, False) for tag, v in gate.checkpoints.items()]
    tables = []
    for tag, verdict, confirms in judged:
        part = verdict_part(gate, verdict)
        tables.append({"tag": tag, "verdict": verdict.verdict, "confirms": confirms,
                       "on": ITEMS[part] if part else None,
                       "selected": tag == gate.selected, "chosen": tag == gate.chosen,
                       "rows": [check_row(c) for c in verdict.checks]})
    return tables


def split_view(data: RunData) -> dict[str, Any] | None:
    """Which items chose the checkpoint and which confirmed it."""
    if data.gate is None:
        return None
    split = data.gate.split
    return {"statement": split_statement(data.gate), "recorded": split_recorded(split),
            "enabled": split.enabled, "method": split.method,
            "confirm_fraction": split.confirm_fraction, "candidates": split.candidates,
            "correction": split.correction, "confidence": split.confidence,
            "confidence_text": percent(split.confidence) if split.confidence else "not recorded",
            "counts": [{"suite": s, "selection": a, "confirmation": b}
                       for s, a, b in split_counts(split)]}


def outcome_counts(data: RunData) -> dict[str, int]:
    """How many of the checks judging the described model ended each way."""
    counts = {"pass": 0, "screened": 0, "insufficient": 0, "fail": 0, "reported": 0}
    for check in data.checks():
        counts[check_row(check)["css"]] += 1
    return counts


def confirmed(data: RunData) -> list[dict[str, Any]] | None:
    """The described model's numbers on the confirmation items (the checks of the
    confirming verdict carry value, CI and n on those items); None when not confirmed."""
    verdict = data.subject_verdict
    if data.gate is None or verdict is None or verdict is not data.gate.confirmation:
        return None
    return [check_row(c) for c in verdict.checks]


def collapsed(data: RunData) -> list[dict[str, Any]]:
    """{suite, sentence} for each suite whose answers from the described model collapsed."""
    return [{"suite": suite, "sentence": f"{suite}: {line}"}
            for suite, line in data.collapsed().items()]
