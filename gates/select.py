"""Choosing the checkpoint to promote among those that passed, by a stated rule.

The rule is recorded in gate.json next to the values it ranked, so a reviewer can see
why checkpoint-40 and not checkpoint-60 was promoted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

from gates.policy import Selection


class _Verdict(Protocol):
    tag: str
    passed: bool
    primary: float | None


def select_checkpoint(verdicts: Mapping[str, _Verdict], selection: Selection,
                      rule: str | None = None) -> tuple[str | None, dict[str, Any]]:
    """The selected tag (None if nothing passed) and the record of how it was chosen.

    `verdicts` must be in checkpoint order (earliest first); `rule` overrides the
    policy's rule (the config's gates.selection).
    """
    chosen_rule = rule or selection.rule
    sel = selection.model_copy(update={"rule": chosen_rule})
    passing = [v for v in verdicts.values() if v.passed]
    record: dict[str, Any] = {
        "rule": chosen_rule, "description": sel.describe(),
        "primary_metric": f"{sel.suite}.{sel.metric}",
        "passing": [v.tag for v in passing],
        "primary_values": {v.tag: v.primary for v in verdicts.values()},
    }
    if not passing:
        return None, record
    if chosen_rule == "last_passing":
        return passing[-1].tag, record
    best, best_value = None, -math.inf
    for v in passing:  # earliest first, strict '>' keeps the earliest on ties
        value = v.primary if v.primary is not None else -math.inf
        if best is None or value > best_value:
            best, best_value = v.tag, value
    return best, record
