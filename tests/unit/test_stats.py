import math

from harness.core.stats import (
    mcnemar_exact,
    n_needed,
    paired_bootstrap_diff,
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
