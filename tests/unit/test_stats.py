import math

import pytest

from harness.core.stats import (
    _tango_z,
    cluster_bootstrap_mean,
    cluster_lower_bound,
    clustered_proportion_entry,
    design_effect,
    mcnemar_exact,
    mcnemar_n_needed,
    mcnemar_one_sided,
    n_needed,
    paired_bootstrap_diff,
    proportion_entry,
    rate_entry,
    tango_interval,
    upper_bound,
    wilson_ci,
)


def test_zero_events_bound_is_about_three_over_n():
    assert math.isclose(upper_bound(0, 300), 3 / 300, rel_tol=0.01)


def test_n_needed_is_the_smallest_n_that_shows_the_threshold():
    n = n_needed(0.01)
    assert upper_bound(0, n) < 0.01 <= upper_bound(0, n - 1)


def test_wilson_contains_point():
    lo, hi = wilson_ci(30, 100)
    assert lo < 0.3 < hi


def test_paired_bootstrap_identical_is_zero():
    d, lo, hi = paired_bootstrap_diff([1, 0, 1, 1], [1, 0, 1, 1])
    assert d == lo == hi == 0


def test_mcnemar_symmetric():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(10, 2) == mcnemar_exact(2, 10) < 0.05


def test_rate_entry_bounds_follow_the_confidence():
    at95, at99 = rate_entry(1, 200, 0.01), rate_entry(1, 200, 0.01, confidence=0.99)
    assert at99["upper95"] > at95["upper95"] and at99["n_needed"] > at95["n_needed"]
    assert at99["ci"][0] < at95["ci"][0] and at99["ci"][1] > at95["ci"][1]
    assert (at95["confidence"], at99["confidence"]) == (0.95, 0.99)
    wide = proportion_entry([True] * 30 + [False] * 10, confidence=0.99)["ci"]
    narrow = proportion_entry([True] * 30 + [False] * 10)["ci"]
    assert wide[0] < narrow[0] and wide[1] > narrow[1]


def test_clustered_proportion_counts_items_when_they_repeat():
    independent = clustered_proportion_entry([True, False, True], ["a", "b", "c"])
    assert independent == proportion_entry([True, False, True])
    flags = [True] * 8 + [False] * 8 + [True] * 8
    entry = clustered_proportion_entry(flags, ["a"] * 8 + ["b"] * 8 + ["c"] * 8, seed=3)
    assert entry["n"] == 3 and entry["n_records"] == 24
    assert entry["value"] == pytest.approx(2 / 3)
    assert entry["method"].startswith("cluster bootstrap")


def test_cluster_lower_bound_is_the_one_sided_quantile_of_the_same_resamples():
    flags = [float(i % 3 != 0) for i in range(60)]
    items = [str(i // 4) for i in range(60)]
    _, lo90, _, _ = cluster_bootstrap_mean(flags, items, seed=5, confidence=0.90)
    assert cluster_lower_bound(flags, items, seed=5, confidence=0.95) == pytest.approx(lo90)
    assert cluster_lower_bound(flags, items, seed=5, confidence=0.99) < lo90


def test_design_effect_is_about_the_cluster_size_for_whole_item_agreement():
    items = [str(i // 8) for i in range(160)]
    agree = [float(int(i) % 2 == 0) for i in items]  # every item's 8 records agree
    assert design_effect(agree, items, seed=0) == pytest.approx(8, rel=0.25)
    alternate = [float(i % 2) for i in range(160)]  # 4 of 8 in every item: no item effect
    assert design_effect(alternate, items, seed=0) < 0.5
    assert design_effect([1.0] * 16, items[:16]) is None


def test_tango_interval_inverts_the_score_test():
    z = 1.959963984540054
    lo, hi = tango_interval(6, 16, 161)
    assert lo < (6 - 16) / 161 < hi
    assert math.isclose(_tango_z(6, 16, 161, lo), z, abs_tol=1e-6)
    assert math.isclose(_tango_z(6, 16, 161, hi), -z, abs_tol=1e-6)
    # At a difference of 0 the statistic is McNemar's z, (b - c) / sqrt(b + c).
    assert math.isclose(_tango_z(6, 16, 161, 0.0), -10 / math.sqrt(22))
    # Swapping the sides mirrors the interval.
    mlo, mhi = tango_interval(16, 6, 161)
    assert math.isclose(mlo, -hi, abs_tol=1e-9) and math.isclose(mhi, -lo, abs_tol=1e-9)
    # No discordant pair among 400: an interval around 0 about z^2/n wide on each side.
    lo0, hi0 = tango_interval(0, 0, 400)
    assert math.isclose(hi0, -lo0) and 0.005 < hi0 < 0.015


def test_one_sided_mcnemar_and_its_n_needed():
    assert mcnemar_one_sided(0, 6) == 0.5 ** 6
    assert mcnemar_one_sided(3, 3) > 0.5 and mcnemar_one_sided(0, 0) == 1.0
    assert abs(2 * mcnemar_one_sided(2, 9) - mcnemar_exact(2, 9)) < 1e-12
    n = mcnemar_n_needed(0.01, 0.05, 0.025)
    assert mcnemar_one_sided(round(0.01 * n), round(0.05 * n)) <= 0.025
    assert mcnemar_n_needed(0.05, 0.01, 0.025) is None
