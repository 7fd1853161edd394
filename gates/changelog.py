"""What changed in the gate's checks from one released model to the next.

The A/B table says how much each metric moved; the changelog says what that meant for
the gate: which checks newly pass, newly fail, and which appear or disappear (a policy
change). Each side's checks are those of the verdict that decided it: the confirmation
on the held-out items when the gate confirmed, else the selected checkpoint's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gates.result import CheckpointVerdict, CheckResult, GateResult
from gates.wording import outcome_of


@dataclass
class CheckChange:
    name: str
    change: str  # newly passes, newly fails, still passes, still fails, added, removed
    a: str | None  # outcome in A: pass, fail, insufficient, reported
    b: str | None
    a_value: float | None
    b_value: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def deciding_verdict(gate: GateResult) -> CheckpointVerdict | None:
    """The verdict the release stands on."""
    if gate.confirmation is not None:
        return gate.confirmation
    tag = gate.selected or gate.chosen
    return gate.checkpoints.get(tag) if tag else None


def _checks(gate: GateResult) -> dict[str, CheckResult]:
    verdict = deciding_verdict(gate)
    return {c.name: c for c in verdict.checks} if verdict else {}


def _change(a: str | None, b: str | None) -> str:
    if a is None:
        return "added"
    if b is None:
        return "removed"
    if a != "pass" and b == "pass":
        return "newly passes"
    if a == "pass" and b != "pass":
        return "newly fails"
    return f"still {'passes' if b == 'pass' else b}" if a == b else f"{a} -> {b}"


def check_changelog(a: GateResult, b: GateResult) -> list[CheckChange]:
    """Every check of either side, in A's order then B's new ones."""
    ca, cb = _checks(a), _checks(b)
    names = list(ca) + [n for n in cb if n not in ca]
    rows = []
    for name in names:
        oa = outcome_of(ca[name]) if name in ca else None
        ob = outcome_of(cb[name]) if name in cb else None
        rows.append(CheckChange(name, _change(oa, ob), oa, ob,
                                ca[name].value if name in ca else None,
                                cb[name].value if name in cb else None))
    return rows
