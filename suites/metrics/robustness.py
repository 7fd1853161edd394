"""Robustness metrics: accuracy per variant, its paired drop from clean, consistency, flips.

Records are one per (item, variant), variant "clean" or a perturbation name; a variant
record is paired with the clean record of the same item. The variants, in order, are
`options.variants` (a variant none of whose items was kept still gets its entries, with
n = 0), else the variants seen in the records.

Consistency asks whether the model chose the same answer *content* as on the clean
prompt: options are compared through the variant's option map, so a permutation that
moves the right answer from B to D still counts as consistent when the model follows it.
A prediction that cannot be read counts as inconsistent and wrong (fail closed).

Uncertainty counts items, not records: the pooled `consistency` has one record per
(item, variant), and an item's variants share its difficulty, so its interval is a
cluster bootstrap over item ids and its n the number of items (n_records beside it).
A per-variant entry has one record per item and keeps the Wilson interval, unless an
item appears twice, when it is clustered the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.core.records import CLEAN, Record
from harness.core.stats import (
    CONFIDENCE,
    cluster_count,
    cluster_resample,
    clustered_proportion_entry,
    mcnemar_exact,
    n_needed,
    paired_bootstrap_diff,
    upper_bound,
)
from harness.core.summaries import MetricEntry, metric
from suites.base import LETTERS
from suites.metrics.registry import MetricInput, as_entry, register
from suites.perturb.variants import CHANGES_QUESTION

CONSISTENCY_TARGET = 0.95  # the lecture's "consistency across similar inputs > 95%"
N_BOOT = 2000  # cluster-bootstrap resamples

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


def share(flags: Sequence[bool], items: Sequence[str], data: MetricInput) -> MetricEntry:
    """A share over records labelled with their items: Wilson when each item has one
    record, a cluster bootstrap over items (n = items, plus n_records) when items repeat."""
    return as_entry(clustered_proportion_entry(flags, items, n_boot=N_BOOT, seed=data.seed,
                                               confidence=data.confidence), "share")


def with_target(flags: Sequence[bool], items: Sequence[str], target: float, *, seed: int = 0,
                confidence: float = CONFIDENCE) -> MetricEntry:
    """A share that should be high, with its one-sided lower bound at `confidence` (under
    the name `lower95`) and the items needed for that bound to clear `target`.

    One record per item: the exact (Clopper-Pearson) bound and the binomial n_needed at
    the misses seen so far. Several records per item (pooled variants): the bound is the
    (1 - confidence) quantile of the cluster bootstrap over items, and n_needed, in items,
    is an approximation: the binomial n_needed in records times the design effect
    (cluster-bootstrap variance / binomial variance, at least 1), divided by the records
    per item. With no misses (or no hits) there is no variance to estimate the design
    effect from, and it is taken as the records per item: as if each item's records
    always agreed, the case in which pooling them adds nothing.
    """
    values = [float(bool(f)) for f in flags]
    independent = cluster_count(items) == len(flags)
    # One set of resamples for the interval, the one-sided bound and the design effect.
    boot = None if independent or not values else cluster_resample(values, items,
                                                                   n_boot=N_BOOT, seed=seed)
    entry = clustered_proportion_entry(flags, items, n_boot=N_BOOT, seed=seed,
                                       confidence=confidence, resample=boot)
    n_records = len(flags)
    misses = n_records - sum(bool(f) for f in flags)
    entry["target"] = target
    entry["direction"] = "higher_is_better"
    binomial = n_needed(1 - target, confidence, events=misses)
    n_items = cluster_count(items)
    if n_items == n_records:
        entry["lower95"] = (1 - upper_bound(misses, n_records, confidence)) if n_records else None
        entry["n_needed"] = binomial
        return as_entry(entry, "consistency")
    per_item = n_records / n_items
    deff = boot.design_effect()
    deff = per_item if deff is None else max(1.0, deff)
    entry["lower95"] = boot.lower_bound(confidence)
    entry["design_effect"] = deff
    entry["n_needed"] = None if binomial is None else math.ceil(binomial * deff / per_item)
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
    out = {CLEAN: share([bool(r.correct) for r in clean], [r.item_id for r in clean], data)}
    for name, kept in pairs.items():
        out[name] = share([bool(v.correct) for _, v in kept], [v.item_id for _, v in kept],
                          data)
    return out


def _repeated(items: Sequence[str]) -> Sequence[str] | None:
    """The item labels as clusters when an item has several records, else None."""
    return items if cluster_count(items) < len(items) else None


@register("accuracy_drop.<variant>")
def accuracy_drop(data: MetricInput) -> dict[str, MetricEntry]:
    """Clean minus variant accuracy over the same items, paired bootstrap CI."""
    _, pairs = split(data)
    out = {}
    for name, kept in pairs.items():
        items = [v.item_id for _, v in kept]
        diff, lo, hi = paired_bootstrap_diff([float(bool(c.correct)) for c, _ in kept],
                                             [float(bool(v.correct)) for _, v in kept],
                                             seed=data.seed, confidence=data.confidence,
                                             clusters=_repeated(items))
        out[name] = metric(diff, (lo, hi), cluster_count(items), method="paired bootstrap",
                           direction="lower_is_better", confidence=data.confidence)
    return out


@register("consistency.<variant>")
def consistency_by_variant(data: MetricInput) -> dict[str, MetricEntry]:
    """Share of a variant's items answered with the clean answer's content; target 0.95."""
    _, pairs = split(data)
    return {name: with_target([same_content(c, v) for c, v in kept],
                              [v.item_id for _, v in kept], CONSISTENCY_TARGET,
                              seed=data.seed, confidence=data.confidence)
            for name, kept in pairs.items()}


@register("consistency")
def consistency(data: MetricInput) -> MetricEntry:
    """Consistency pooled over the kept meaning-preserving variant records, counted in
    items (cluster bootstrap over item ids: an item's variants are not independent);
    target 0.95. A variant that changes the question (`age_shift`) has its own entries
    and is never pooled here."""
    _, pairs = split(data)
    kept = [pair for name, group in pairs.items() if name not in CHANGES_QUESTION
            for pair in group]
    return with_target([same_content(c, v) for c, v in kept], [v.item_id for _, v in kept],
                       CONSISTENCY_TARGET, seed=data.seed, confidence=data.confidence)


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
