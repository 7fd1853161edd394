"""Pooled consistency counts items: an item's variants are one piece of evidence."""

from __future__ import annotations

import numpy as np

from harness.core.records import Record
from harness.core.stats import clustered_proportion_entry, wilson_ci
from suites.metrics import compute_metrics

VARIANTS = ["typo_keyboard", "ocr", "char_random", "spelling", "synonym", "demographic",
            "option_order", "distractor"]


def records(consistent: list[bool], *, repeat: str | None = None) -> list[Record]:
    """A clean record and one record per variant for each item; an item's variants all
    follow the clean answer or all leave it. `repeat` gives one variant a second record."""
    out = []
    for k, same in enumerate(consistent):
        out.append(Record(suite="r", item_id=f"i{k}", prompt="p", pred="A", gold="A",
                          correct=True, meta={"pred_index": 0}))
        for v in VARIANTS + ([repeat] if repeat else []):
            pred = 0 if same else 2
            out.append(Record(suite="r", item_id=f"i{k}", variant=v, prompt=f"p {v}",
                              pred="ABCD"[pred], gold="A", correct=same,
                              meta={"pred_index": pred, "option_map": [0, 1, 2, 3]}))
    return out


def metrics(recs: list[Record]) -> dict:
    return compute_metrics(["consistency", "consistency.<variant>", "accuracy.<variant>",
                            "accuracy_drop.<variant>"], recs,
                           options={"variants": VARIANTS}, seed=1)


def test_all_or_nothing_items_give_the_width_of_twenty_items():
    consistent = [k % 4 != 0 for k in range(20)]  # 15 of 20 items, all 8 variants alike
    m = metrics(records(consistent))
    pooled = m["consistency"]
    assert pooled.n == 20 and pooled.extra["n_records"] == 160
    assert pooled.value == 0.75
    width = pooled.ci[1] - pooled.ci[0]
    items_lo, items_hi = wilson_ci(15, 20)  # 20 independent items
    records_lo, records_hi = wilson_ci(120, 160)  # the old record-level interval
    assert abs(width - (items_hi - items_lo)) < 0.08
    assert width > 1.7 * (records_hi - records_lo)
    assert pooled.lower95 < records_lo  # the one-sided bound is clustered too
    assert pooled.extra["design_effect"] > 5  # near 8: the variants add nothing
    per_variant = m["consistency.ocr"]
    assert per_variant.n == 20 and "n_records" not in per_variant.extra


def test_n_needed_in_items_grows_with_the_design_effect():
    correlated = metrics(records([k % 4 != 0 for k in range(20)]))["consistency"]
    independent = metrics(records([True] * 20))["consistency.ocr"]
    assert correlated.n_needed > 20
    # all-consistent pooled records: no variance, the design effect is taken as 8
    pooled_all = metrics(records([True] * 20))["consistency"]
    assert pooled_all.extra["design_effect"] == 8
    assert pooled_all.n_needed == independent.n_needed


def test_a_repeated_variant_record_is_clustered():
    m = metrics(records([k % 4 != 0 for k in range(20)], repeat="ocr"))
    assert m["consistency.ocr"].n == 20 and m["consistency.ocr"].extra["n_records"] == 40
    assert m["accuracy.ocr"].n == 20 and m["accuracy_drop.ocr"].n == 20
    assert m["consistency.ocr"].method.startswith("cluster bootstrap")


def test_clustered_interval_covers_the_true_consistency_when_items_are_correlated():
    """1000 simulated runs: 40 items x 8 variants, each item with its own chance of
    keeping its answer (mean 0.8). The clustered 95% interval covers 0.8 at about its
    level (a percentile bootstrap over 40 skewed clusters runs a little under it: ~0.93,
    with a Monte Carlo standard error of ~0.008); the record-level Wilson interval,
    treating 320 records as independent, covers far less (~0.75)."""
    rng = np.random.default_rng(7)
    n_items, runs, truth = 40, 1000, 0.8
    items = [str(i) for i in np.repeat(np.arange(n_items), 8)]
    clustered = wilson = 0
    for run in range(runs):
        p = rng.beta(1.6, 0.4, size=n_items)
        flags = (rng.random((n_items, 8)) < p[:, None]).ravel().tolist()
        entry = clustered_proportion_entry(flags, items, seed=run)
        clustered += entry["ci"][0] <= truth <= entry["ci"][1]
        lo, hi = wilson_ci(sum(flags), len(flags))
        wilson += lo <= truth <= hi
    assert clustered / runs >= 0.92
    assert wilson / runs <= 0.85
