"""Robustness metrics: accuracy per variant, its paired drop from clean, consistency, flips.

Records are one per (item, variant), variant "clean" or a perturbation name; a variant
record is paired with the clean record of the same item. The variants, in order, are
`options.variants` (a variant none of whose items was kept still gets its entries, with
n = 0), else the variants seen in the records.

Consistency asks whether the model chose the same answer *content* as on the clean
prompt: options are compared through the variant's option map, so a permutation that
moves the right answer from B to D still counts as consistent when the model follows it.
A prediction that cannot be read counts as inconsistent and wrong (fail closed).
"""

from __future__ import annotations

from typing import Any

from harness.core.records import CLEAN, Record
from harness.core.stats import (
    mcnemar_exact,
    n_needed,
    paired_bootstrap_diff,
    proportion_entry,
    upper_bound,
)
from harness.core.summaries import MetricEntry, metric
from suites.base import LETTERS
from suites.metrics.registry import MetricInput, as_entry, register

CONSISTENCY_TARGET = 0.95  # the lecture's "consistency across similar inputs > 95%"

Pairs = list[tuple[Record, Record]]


def pred_index(record: Record) -> int | None:
    """The chosen option's index from `meta.pred_index`, else from the `pred` letter."""
    value = record.meta.get("pred_index")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(record.pred, str) and len(record.pred.strip()) == 1:
        index = LETTERS.find(record.pred.strip().upper())
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


def with_target(entry: dict[str, Any], target: float) -> MetricEntry:
    """A rate that should be high, with its one-sided lower bound and the items needed
    for that bound to clear `target` at the misses seen so far."""
    n = entry["n"] or 0
    misses = n - round((entry["value"] or 0.0) * n)
    entry["target"] = target
    entry["direction"] = "higher_is_better"
    entry["lower95"] = (1 - upper_bound(misses, n)) if n else None
    entry["n_needed"] = n_needed(1 - target, events=misses)
    return as_entry(entry, "consistency")


def split(data: MetricInput) -> tuple[list[Record], dict[str, Pairs]]:
    """The clean records, and per variant its (clean, variant) record pairs."""
    clean = [r for r in data.records if r.variant == CLEAN]
    by_id = {r.item_id: r for r in clean}
    names = list(data.options.get("variants") or [])
    for r in data.records:
        if r.variant != CLEAN and r.variant not in names:
            names.append(r.variant)
    pairs: dict[str, Pairs] = {name: [] for name in names}
    for r in data.records:
        if r.variant != CLEAN and r.item_id in by_id:
            pairs[r.variant].append((by_id[r.item_id], r))
    return clean, pairs


@register("accuracy.<variant>")
def accuracy_by_variant(data: MetricInput) -> dict[str, MetricEntry]:
    """Accuracy on the clean items and on each variant's kept items."""
    clean, pairs = split(data)
    out = {CLEAN: as_entry(proportion_entry([bool(r.correct) for r in clean]), "accuracy")}
    for name, kept in pairs.items():
        out[name] = as_entry(proportion_entry([bool(v.correct) for _, v in kept]), "accuracy")
    return out


@register("accuracy_drop.<variant>")
def accuracy_drop(data: MetricInput) -> dict[str, MetricEntry]:
    """Clean minus variant accuracy over the same items, paired bootstrap 95% CI."""
    _, pairs = split(data)
    out = {}
    for name, kept in pairs.items():
        diff, lo, hi = paired_bootstrap_diff([float(bool(c.correct)) for c, _ in kept],
                                             [float(bool(v.correct)) for _, v in kept],
                                             seed=data.seed)
        out[name] = metric(diff, (lo, hi), len(kept), method="paired bootstrap",
                           direction="lower_is_better")
    return out


@register("consistency.<variant>")
def consistency_by_variant(data: MetricInput) -> dict[str, MetricEntry]:
    """Share of a variant's items answered with the clean answer's content; target 0.95."""
    _, pairs = split(data)
    return {name: with_target(proportion_entry([same_content(c, v) for c, v in kept]),
                              CONSISTENCY_TARGET)
            for name, kept in pairs.items()}


@register("consistency")
def consistency(data: MetricInput) -> MetricEntry:
    """Consistency over every kept variant record; target 0.95."""
    _, pairs = split(data)
    every = [same_content(c, v) for kept in pairs.values() for c, v in kept]
    return with_target(proportion_entry(every), CONSISTENCY_TARGET)


@register("flips.<variant>")
def flips(data: MetricInput) -> dict[str, MetricEntry]:
    """Correctness flips between clean and variant, both directions and McNemar's p."""
    _, pairs = split(data)
    out = {}
    for name, kept in pairs.items():
        clean_ok = [bool(c.correct) for c, _ in kept]
        var_ok = [bool(v.correct) for _, v in kept]
        to_wrong = sum(a and not b for a, b in zip(clean_ok, var_ok))
        to_right = sum(b and not a for a, b in zip(clean_ok, var_ok))
        changed = len(kept) - sum(same_content(c, v) for c, v in kept)
        out[name] = metric(to_wrong + to_right, None, len(kept), correct_to_wrong=to_wrong,
                           wrong_to_correct=to_right, answer_changed=changed,
                           mcnemar_p=mcnemar_exact(to_wrong, to_right))
    return out
