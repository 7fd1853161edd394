"""Robustness metrics: accuracy per variant, its paired drop from clean, consistency, flips.

Consistency asks whether the model chose the same answer *content* as on the clean
prompt: options are compared through the variant's option map, so a permutation that
moves the right answer from B to D still counts as consistent when the model follows it.
A prediction that cannot be read counts as inconsistent and wrong (fail closed).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

from harness.core.records import Record, metric
from harness.core.stats import (
    mcnemar_exact,
    n_needed,
    paired_bootstrap_diff,
    proportion_entry,
    upper_bound,
)

CONSISTENCY_TARGET = 0.95  # the lecture's "consistency across similar inputs > 95%"


def pred_index(record: Record) -> int | None:
    """The chosen option's index from `meta.pred_index`, else from the `pred` letter."""
    value = record.meta.get("pred_index")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(record.pred, str) and len(record.pred.strip()) == 1:
        index = string.ascii_uppercase.find(record.pred.strip().upper())
        return index if index >= 0 else None
    return None


def same_content(clean: Record, variant: Record) -> bool:
    """True when the variant's chosen option is the clean prediction's option."""
    a, b = pred_index(clean), pred_index(variant)
    if a is None or b is None:
        return False
    mapping = variant.meta.get("option_map")
    if not isinstance(mapping, list) or not 0 <= b < len(mapping):
        return False
    return mapping[b] == a


def _with_target(entry: dict, target: float) -> dict:
    """Add the sample-size view of a rate that should be high: its one-sided lower bound,
    and the items needed for that bound to clear `target` at the misses seen so far."""
    n = entry["n"] or 0
    misses = n - round((entry["value"] or 0.0) * n)
    entry["target"] = target
    entry["direction"] = "higher_is_better"
    entry["lower95"] = (1 - upper_bound(misses, n)) if n else None
    entry["n_needed"] = n_needed(1 - target, events=misses)
    return entry


def robustness_metrics(clean: Sequence[Record], variants: Mapping[str, Sequence[Record]], *,
                       seed: int = 0) -> dict:
    """Summary entries named as the gate reads them (see the suite's docstring)."""
    by_id = {r.item_id: r for r in clean}
    out: dict = {"accuracy.clean": proportion_entry([bool(r.correct) for r in clean])}
    all_consistent: list[bool] = []
    for name, records in variants.items():
        pairs = [(by_id[r.item_id], r) for r in records if r.item_id in by_id]
        clean_ok = [bool(c.correct) for c, _ in pairs]
        var_ok = [bool(v.correct) for _, v in pairs]
        consistent = [same_content(c, v) for c, v in pairs]
        all_consistent += consistent
        n = len(pairs)
        out[f"accuracy.{name}"] = proportion_entry(var_ok)
        diff, lo, hi = paired_bootstrap_diff([float(x) for x in clean_ok],
                                             [float(x) for x in var_ok], seed=seed)
        out[f"accuracy_drop.{name}"] = metric(diff, (lo, hi), n, method="paired bootstrap",
                                              direction="lower_is_better")
        out[f"consistency.{name}"] = _with_target(proportion_entry(consistent),
                                                  CONSISTENCY_TARGET)
        to_wrong = sum(a and not b for a, b in zip(clean_ok, var_ok))
        to_right = sum(b and not a for a, b in zip(clean_ok, var_ok))
        out[f"flips.{name}"] = metric(
            to_wrong + to_right, None, n, correct_to_wrong=to_wrong, wrong_to_correct=to_right,
            answer_changed=n - sum(consistent), mcnemar_p=mcnemar_exact(to_wrong, to_right))
    out["consistency"] = _with_target(proportion_entry(all_consistent), CONSISTENCY_TARGET)
    return out
