"""Choosing the checkpoint to promote among those that passed, by a stated rule.

The rule has one source: the policy's `selection.rule`, unless the run's config
(`gates.selection`) or `medgate gate --selection` names another explicitly. gate.json
records the rule, where it came from and the values it ranked, so a reviewer can see why
checkpoint-40 and not checkpoint-60 was promoted, and `train-and-gate` and a later
`medgate gate` of the same run choose alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

from gates.policy import Selection
from gates.result import SelectionRecord, SelectionRule, SelectionSource


class _Verdict(Protocol):
    tag: str
    passed: bool
    primary: float | None


def select_checkpoint(verdicts: Mapping[str, _Verdict], selection: Selection,
                      rule: SelectionRule | None = None,
                      source: SelectionSource = "config") -> tuple[str | None, SelectionRecord]:
    """The selected tag (None if nothing passed) and the record of how it was chosen.

    `verdicts` must be in checkpoint order (earliest first). `rule`, when given, overrides
    the policy's rule and `source` says who gave it ("config" or "cli"); without it the
    policy's rule chooses and the record says "policy".
    """
    if rule is None:
        rule, source = selection.rule, "policy"
    sel = selection.model_copy(update={"rule": rule})
    passing = [v for v in verdicts.values() if v.passed]
    record = SelectionRecord(rule=rule, source=source, description=sel.describe(),
                             primary_metric=f"{sel.suite}.{sel.metric}",
                             passing=[v.tag for v in passing],
                             primary_values={v.tag: v.primary for v in verdicts.values()})
    if not passing:
        return None, record
    if rule == "last_passing":
        return passing[-1].tag, record
    best, best_value = None, -math.inf
    for v in passing:  # earliest first, strict '>' keeps the earliest on ties
        value = v.primary if v.primary is not None else -math.inf
        if best is None or value > best_value:
            best, best_value = v.tag, value
    return best, record
