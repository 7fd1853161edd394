"""Interval estimates and paired tests shared by suites, gates and reports.

Small-sample honesty is a measurement rule here: every rate carries its n, an interval
and, for rare events, the one-sided upper bound and the n it would take to show a
threshold. scipy does the distribution work; the bootstrap is a few lines of numpy so
that its seed, resample count and pairing are explicit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.core.summaries import metric

CONFIDENCE = 0.95


def _scipy_stats():
    """scipy.stats, imported on first use: it costs most of a second, and listing or
    loading suites (which registers their metrics) should not pay it."""
    from scipy import stats

    return stats


def wilson_ci(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided Wilson score interval for k successes in n trials (NaNs if n == 0)."""
    if n <= 0:
        return (math.nan, math.nan)
    z = _scipy_stats().norm.ppf(1 - (1 - confidence) / 2)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def upper_bound(k: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided exact (Clopper-Pearson) upper bound of a rate; 0 events give ~3/n."""
    if n <= 0:
        return math.nan
    if k >= n:
        return 1.0
    return float(_scipy_stats().beta.ppf(confidence, k + 1, n - k))


def n_needed(threshold: float, confidence: float = CONFIDENCE, events: int = 0) -> int | None:
    """Items needed for the upper bound to fall below `threshold` if `events` occur."""
    if not 0 < threshold < 1:
        return None
    n = max(events + 1, int(math.log(1 - confidence) / math.log(1 - threshold)))
    while upper_bound(events, n, confidence) >= threshold:
        n = int(n * 1.05) + 1
    lo, hi = max(events + 1, int(n / 1.06) - 1), n
    while lo < hi:  # smallest n that shows it
        mid = (lo + hi) // 2
        if upper_bound(events, mid, confidence) < threshold:
            hi = mid
        else:
            lo = mid + 1
    return lo


def rate_entry(k: int, n: int, threshold: float | None = None) -> dict[str, Any]:
    """A summary metric for a rare-event rate: value, Wilson CI, n, upper95, n_needed.

    An empty rate has no bound: upper95 is None (null in JSON, which a gate reading it
    fails closed on), not NaN. Returned in its on-disk form (MetricEntry.to_json) because
    suites still add fields to it; MetricEntry.model_validate reads it back.
    """
    value = k / n if n else math.nan
    extra = {"events": k, "upper95": upper_bound(k, n) if n else None}
    if threshold is not None:
        extra["threshold"] = threshold
        extra["n_needed"] = n_needed(threshold, events=k)
    return metric(value, wilson_ci(k, n), n, **extra).to_json()


def proportion_entry(correct: Sequence[bool]) -> dict[str, Any]:
    """Accuracy-like metric entry with a Wilson CI (on-disk form, as rate_entry)."""
    n = len(correct)
    k = int(sum(bool(c) for c in correct))
    return metric(k / n if n else math.nan, wilson_ci(k, n), n).to_json()


def paired_bootstrap_diff(a: Sequence[float], b: Sequence[float], *, n_boot: int = 2000,
                          seed: int = 0,
                          confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """mean(a) - mean(b) over the same items, with a percentile bootstrap CI.

    Items are resampled as pairs, so the interval reflects per-item agreement between
    the two models rather than two independent standard errors.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError("paired samples must have the same length")
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    d = x - y
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, d.size, size=(n_boot, d.size))
    means = d[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    return (float(d.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)))


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pair counts."""
    total = only_a + only_b
    if total == 0:
        return 1.0
    return float(_scipy_stats().binomtest(only_a, total, 0.5).pvalue)
