"""Interval estimates and paired tests shared by suites, gates and reports.

Small-sample honesty is a measurement rule here: every rate carries its n, an interval
and, for rare events, the one-sided upper bound and the n it would take to show a
threshold. scipy does the distribution work; the bootstrap is a few lines of numpy so
that its seed, resample count and pairing are explicit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
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


def _smallest_n(shows, start: int, limit: int = 10**12) -> int | None:
    """The smallest n >= `start` for which `shows(n)` holds (it must stay true as n grows):
    doubling, then bisection. None past `limit`."""
    hi = max(start, 1)
    while not shows(hi):
        hi *= 2
        if hi > limit:
            return None
    lo = start
    while lo < hi:
        mid = (lo + hi) // 2
        if shows(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def n_needed(threshold: float, confidence: float = CONFIDENCE, events: int = 0) -> int | None:
    """Items needed for the upper bound to fall below `threshold` if `events` occur."""
    if not 0 < threshold < 1:
        return None
    return _smallest_n(lambda n: upper_bound(events, n, confidence) < threshold, events + 1)


def n_needed_at_rate(rate: float, threshold: float,
                     confidence: float = CONFIDENCE) -> int | None:
    """Items needed for the upper bound to fall below `threshold` if the rate stayed at
    `rate` (events growing with n; at rate 0, n_needed's ~3/n rule)."""
    if not 0 < threshold < 1 or rate >= threshold:
        return None
    return _smallest_n(lambda n: upper_bound(math.ceil(rate * n), n, confidence) < threshold, 1)


def rate_entry(k: int, n: int, threshold: float | None = None,
               confidence: float = CONFIDENCE) -> dict[str, Any]:
    """A summary metric for a rare-event rate: value, Wilson CI, n, upper95, n_needed.

    The interval, the one-sided bound (kept under the name `upper95`) and n_needed are at
    `confidence`, which the entry records: a gate that judges several candidates asks for
    a stricter level than 0.95, and the file must say which one a bound is at.
    An empty rate has no bound: upper95 is None (null in JSON, which a gate reading it
    fails closed on), not NaN. Returned in its on-disk form (MetricEntry.to_json) because
    suites still add fields to it; MetricEntry.model_validate reads it back.
    """
    value = k / n if n else math.nan
    extra: dict[str, Any] = {"events": k,
                             "upper95": upper_bound(k, n, confidence) if n else None,
                             "confidence": confidence}
    if threshold is not None:
        extra["threshold"] = threshold
        extra["n_needed"] = n_needed(threshold, confidence, events=k)
    return metric(value, wilson_ci(k, n, confidence), n, **extra).to_json()


def proportion_entry(correct: Sequence[bool], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Accuracy-like metric entry with a Wilson CI at `confidence` (on-disk form, as
    rate_entry); the records must be independent (one per item)."""
    n = len(correct)
    k = int(sum(bool(c) for c in correct))
    return metric(k / n if n else math.nan, wilson_ci(k, n, confidence), n,
                  confidence=confidence).to_json()


def _cluster_index(clusters: Sequence[Any] | None, size: int) -> np.ndarray:
    """Each record's cluster number (0..C-1); every record its own cluster when None."""
    if clusters is None:
        return np.arange(size)
    if len(clusters) != size:
        raise ValueError("clusters must label every value")
    _, index = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
    return index.reshape(-1)


def cluster_count(clusters: Sequence[Any]) -> int:
    """The number of independent units (distinct cluster labels)."""
    return len({str(c) for c in clusters})


@dataclass(frozen=True)
class ClusterResample:
    """Resamples of whole clusters: the pooled mean of each resample, kept once, so an
    interval, a one-sided bound and a design effect read the same resamples."""

    means: np.ndarray
    mean: float
    n_clusters: int
    n_records: int

    def interval(self, confidence: float = CONFIDENCE) -> tuple[float, float]:
        alpha = (1 - confidence) / 2
        return (float(np.quantile(self.means, alpha)),
                float(np.quantile(self.means, 1 - alpha)))

    def lower_bound(self, confidence: float = CONFIDENCE) -> float:
        """One-sided lower bound at `confidence`: the (1 - confidence) quantile."""
        return float(np.quantile(self.means, 1 - confidence))

    def design_effect(self) -> float | None:
        """Cluster-bootstrap variance of the pooled share over its binomial variance
        p(1-p)/records: how many records one independent record is worth, inverted (1 when
        records are independent, up to the records per cluster when a cluster's records all
        agree). None when the share is 0 or 1: no variance to compare, no estimate."""
        p = self.mean
        if p <= 0.0 or p >= 1.0:
            return None
        return float(self.means.var(ddof=1) / (p * (1 - p) / self.n_records))


def cluster_resample(values: Sequence[float], clusters: Sequence[Any] | None, *,
                     n_boot: int = 2000, seed: int = 0) -> ClusterResample:
    """`n_boot` resamples of whole clusters (each record its own cluster when None), each
    summarised by its pooled mean: the sum of its records over their count."""
    x = np.asarray(values, dtype=float)
    index = _cluster_index(clusters, x.size)
    n_clusters = int(index.max()) + 1
    sums = np.bincount(index, weights=x, minlength=n_clusters)
    sizes = np.bincount(index, minlength=n_clusters).astype(float)
    rng = np.random.default_rng(seed)
    draw = rng.integers(0, n_clusters, size=(n_boot, n_clusters))
    return ClusterResample(sums[draw].sum(axis=1) / sizes[draw].sum(axis=1), float(x.mean()),
                           n_clusters, int(x.size))


def cluster_bootstrap_mean(values: Sequence[float], clusters: Sequence[Any] | None = None, *,
                           n_boot: int = 2000, seed: int = 0,
                           confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """The pooled mean of `values` with a percentile bootstrap CI over clusters.

    Records that share an item (perturbation variants, repeated samples) are not
    independent: resampling items, each with all its records, gives an interval that
    counts items, not records. Returns (mean, lo, hi, number of clusters); the mean is the
    pooled record mean, each resample's the ratio of its records' sum to their count.
    """
    if len(values) == 0:
        return (math.nan, math.nan, math.nan, 0)
    boot = cluster_resample(values, clusters, n_boot=n_boot, seed=seed)
    return (boot.mean, *boot.interval(confidence), boot.n_clusters)


def cluster_lower_bound(values: Sequence[float], clusters: Sequence[Any] | None = None, *,
                        n_boot: int = 2000, seed: int = 0,
                        confidence: float = CONFIDENCE) -> float:
    """One-sided lower bound of the pooled mean at `confidence` (see ClusterResample)."""
    if len(values) == 0:
        return math.nan
    return cluster_resample(values, clusters, n_boot=n_boot, seed=seed).lower_bound(confidence)


def design_effect(values: Sequence[float], clusters: Sequence[Any], *, n_boot: int = 2000,
                  seed: int = 0) -> float | None:
    """The design effect of the pooled share (see ClusterResample.design_effect)."""
    if len(values) == 0:
        return None
    return cluster_resample(values, clusters, n_boot=n_boot, seed=seed).design_effect()


def clustered_proportion_entry(correct: Sequence[bool], clusters: Sequence[Any], *,
                               n_boot: int = 2000, seed: int = 0,
                               confidence: float = CONFIDENCE,
                               resample: ClusterResample | None = None) -> dict[str, Any]:
    """A share over records of which several may belong to one item (on-disk form).

    Independent records (every cluster label distinct) get proportion_entry's Wilson
    interval. Otherwise the value is the pooled record share and the interval a cluster
    bootstrap over items, n counts items (what the evidence is worth) and n_records the
    records pooled: a share over 20 items x 8 variants is not 160 independent trials.
    `resample`, when the caller has drawn it, is used instead of drawing again.
    """
    flags = [float(bool(c)) for c in correct]
    if cluster_count(clusters) == len(flags):
        return proportion_entry(correct, confidence)
    boot = resample or cluster_resample(flags, clusters, n_boot=n_boot, seed=seed)
    return metric(boot.mean, boot.interval(confidence), boot.n_clusters,
                  n_records=len(flags), confidence=confidence,
                  method=f"cluster bootstrap over items ({n_boot} resamples)").to_json()


def paired_bootstrap_diff(a: Sequence[float], b: Sequence[float], *, n_boot: int = 2000,
                          seed: int = 0, confidence: float = CONFIDENCE,
                          clusters: Sequence[Any] | None = None) -> tuple[float, float, float]:
    """mean(a) - mean(b) over the same items, with a percentile bootstrap CI.

    Items are resampled as pairs, so the interval reflects per-item agreement between
    the two models rather than two independent standard errors. With `clusters` (one
    label per pair, e.g. the item id of a perturbation variant), whole clusters are
    resampled together.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError("paired samples must have the same length")
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    if clusters is not None:
        diff, lo, hi, _ = cluster_bootstrap_mean(x - y, clusters, n_boot=n_boot, seed=seed,
                                                 confidence=confidence)
        return (diff, lo, hi)
    d = x - y
    # Drawing n indices uniformly with replacement is drawing multinomial counts of the
    # distinct differences (-1, 0, 1 for correctness): the same bootstrap distribution,
    # at a cost that does not grow with n (simulations of the gate run it many times).
    values, counts = np.unique(d, return_counts=True)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(d.size, counts / d.size, size=n_boot)
    means = draws @ values / d.size
    alpha = (1 - confidence) / 2
    return (float(d.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)))


# A model whose answers collapse onto one option: at or above this share of its answers
# are the same option, the benchmark cannot tell it from a constant guesser.
DEGENERATE_SHARE = 0.9


def prediction_spread(preds: Sequence[Any], gold: Sequence[Any] | None = None,
                      degenerate_share: float = DEGENERATE_SHARE) -> dict[str, Any]:
    """How the answers spread over the options: the modal answer and its share, the
    entropy in bits (and normalised by log2 of the options seen in answers and gold), and
    whether the predictions are degenerate (modal share >= `degenerate_share`).

    An unreadable answer (None) counts as its own option, so a model that answers
    nothing readable is degenerate too. `gold`, when given, adds the modal answer's share
    among the gold answers: a set whose gold answers are that concentrated is not flagged.
    """
    labels = ["<none>" if p is None else str(p) for p in preds]
    n = len(labels)
    if n == 0:
        return {"n": 0, "modal": None, "modal_share": None, "entropy_bits": None,
                "normalized_entropy": None, "degenerate": False, "counts": {}}
    values, counts = np.unique(np.asarray(labels), return_counts=True)
    order = np.argsort(-counts, kind="stable")
    modal = str(values[order[0]])
    share = float(counts[order[0]] / n)
    p = counts / n
    entropy = max(0.0, float(-(p * np.log2(p)).sum()))  # never -0.0
    options = set(labels) | {str(g) for g in (gold or [])}
    norm = entropy / math.log2(len(options)) if len(options) > 1 else 0.0
    gold_share = None
    if gold:
        gold_share = sum(str(g) == modal for g in gold) / len(gold)
    degenerate = share >= degenerate_share and (gold_share is None
                                                or gold_share < degenerate_share)
    return {"n": n, "modal": modal, "modal_share": share, "entropy_bits": entropy,
            "normalized_entropy": float(norm), "degenerate": bool(degenerate),
            "gold_share_of_modal": gold_share,
            "counts": {str(values[i]): int(counts[i]) for i in order}}


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pair counts.

    The exact test is a binomial test of min(a, b) among a + b at p = 1/2; its two-sided
    p-value for that symmetric case is 2 * P(X <= min(a, b)), capped at 1 (scipy's
    binomtest gives the same number, at many times the cost in simulations).
    """
    return min(1.0, 2 * mcnemar_one_sided(min(only_a, only_b), max(only_a, only_b)))


def mcnemar_one_sided(fewer: int, more: int) -> float:
    """One-sided exact McNemar p-value that the side with `fewer` discordant events has
    the lower rate: P(X <= fewer) for X ~ Binomial(fewer + more, 1/2).

    `fewer` counts the pairs where only the side claimed lower had the event, `more` those
    where only the other side had it; 1.0 when no pair is discordant.
    """
    total = fewer + more
    if total == 0:
        return 1.0
    return float(_scipy_stats().binom.cdf(fewer, total, 0.5))


def mcnemar_n_needed(only_lower: float, only_other: float, alpha: float) -> int | None:
    """Pairs for the one-sided exact McNemar test to show the lower rate at `alpha` if the
    discordant shares stayed at `only_lower` and `only_other` (of all pairs). None when the
    shares show no difference to find (only_lower >= only_other). An approximation: the
    counts are the shares times n, rounded."""
    if only_lower >= only_other or not 0 < alpha < 1:
        return None
    return _smallest_n(lambda n: mcnemar_one_sided(round(only_lower * n),
                                                   round(only_other * n)) <= alpha, 1)


def _tango_z(only_a: int, only_b: int, n: int, delta: float) -> float:
    """Tango's score statistic for H0: p(a) - p(b) = delta on n paired binary records."""
    a_coef = 2 * n
    b_coef = -only_a - only_b + (2 * n - only_a + only_b) * delta
    c_coef = -only_b * delta * (1 - delta)
    p_b_only = (math.sqrt(max(0.0, b_coef * b_coef - 4 * a_coef * c_coef)) - b_coef) / (2 * a_coef)
    var = n * (2 * p_b_only + delta * (1 - delta))
    diff = only_a - only_b - n * delta
    if var <= 0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return diff / math.sqrt(var)


def tango_interval(only_a: int, only_b: int, n: int,
                   confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Tango's score interval for p(a) - p(b) on n paired binary records (Tango 1998,
    Statistics in Medicine 17:891), two-sided at `confidence`.

    The percentile bootstrap of a paired difference of rare events is too narrow (a
    model truly above a margin passes a check on its upper end more often than stated);
    the score interval, found by inverting Tango's test (the McNemar z at 0), keeps its
    level for small discordant counts. No library ships it for paired data, so the
    constrained maximum-likelihood formula is written out here. NaNs when n == 0.
    """
    if n <= 0:
        return (math.nan, math.nan)
    from scipy.optimize import brentq  # beside scipy.stats, imported on first use

    z = _scipy_stats().norm.ppf(1 - (1 - confidence) / 2)
    diff = (only_a - only_b) / n
    edge = 1 - 1e-12

    def crossing(target: float, lo: float, hi: float) -> float:
        """Where the statistic (decreasing in delta) equals `target` between lo and hi."""
        def gap(delta: float) -> float:
            return _tango_z(only_a, only_b, n, delta) - target

        if gap(lo) * gap(hi) > 0:  # no crossing inside: the interval reaches the edge
            return lo if abs(gap(lo)) < abs(gap(hi)) else hi
        return float(brentq(gap, lo, hi, xtol=1e-10))

    lower = crossing(z, -edge, diff) if diff > -edge else -1.0
    upper = crossing(-z, diff, edge) if diff < edge else 1.0
    return (lower, upper)


def beta_binomial_mixture_excludes(k: int, n: int, p: float, alpha: float) -> bool:
    """Whether the anytime-valid confidence sequence for a Bernoulli rate excludes `p`
    after k events in n trials.

    The sequence is {p : M_n(p) < 1/alpha} with M_n(p) the likelihood ratio of a uniform
    Beta(1, 1) mixture against the rate p: B(k + 1, n - k + 1) / (p^k (1 - p)^(n - k)).
    Under the true rate M_n is a nonnegative martingale with mean 1, so by Ville's
    inequality the chance that it ever reaches 1/alpha, at any of however many looks, is
    at most alpha. That is what lets a sequential gate look after every block without
    spending its error rate (a fixed-n interval looked at repeatedly does not).
    """
    if n <= 0 or not 0.0 < alpha < 1.0:
        return False
    if p <= 0.0:
        return k > 0
    if p >= 1.0:
        return k < n
    from scipy.special import betaln

    log_m = float(betaln(k + 1, n - k + 1)) - k * math.log(p) - (n - k) * math.log1p(-p)
    return log_m >= math.log(1.0 / alpha)


def betting_shows_mean_below(values: Sequence[float], threshold: float, alpha: float) -> bool:
    """Whether values in [0, 1], taken in their given order, show that their mean is below
    `threshold`, at any point of the sequence, by a test valid under any number of looks.

    The test bets against the mean being `threshold` or more: its capital is
    prod(1 + lambda_i * (threshold - x_i)), each bet lambda_i >= 0 chosen from the values
    before x_i alone (the predictable plug-in of Waudby-Smith & Ramdas, "Estimating means
    of bounded random variables by betting", JRSS-B 2024, capped at half the largest bet
    the capital survives; no bet while the running mean is at or above the threshold).
    Where the mean is `threshold` or more every factor has expectation at most 1, so the
    capital is a nonnegative supermartingale and by Ville's inequality it ever reaches
    1/alpha with probability at most alpha, however many looks. Unlike a sub-Gaussian
    bound it adapts to the values' variance: paired differences are mostly 0 (both models
    right or both wrong), and a test ignoring that would need several times the items.
    Written here because confseq, the reference implementation, ships only a source
    distribution that needs a C++ toolchain and Boost to install.
    """
    if not 0.0 < alpha < 1.0 or not 0.0 < threshold <= 1.0:
        return False
    cap = 0.5 / (1.0 - threshold) if threshold < 1.0 else math.inf
    target = math.log(1.0 / alpha)
    log_capital, total, squares = 0.0, 0.0, 0.25
    for i, x in enumerate(values, start=1):
        x = float(x)
        if not 0.0 <= x <= 1.0:
            raise ValueError(f"value {x} is outside [0, 1]")
        mean_before = (0.5 + total) / i
        if mean_before < threshold:
            variance = squares / i
            bet = min(math.sqrt(2.0 * target / (variance * i * math.log(1.0 + i))), cap)
            log_capital += math.log1p(bet * (threshold - x))
            if log_capital >= target:
                return True
        total += x
        squares += (x - (0.5 + total) / (i + 1)) ** 2
    return False


@dataclass(frozen=True)
class Kappa:
    """An agreement coefficient with its percentile bootstrap CI over items.

    `value` is None when it has no value (every rating in one class: chance agreement 1);
    `n` counts the items both raters judged, `agreement` their raw share of agreement.
    """

    value: float | None
    ci: tuple[float | None, float | None]
    n: int
    agreement: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "ci": list(self.ci), "n": self.n,
                "agreement": self.agreement}


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _binary_kappas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cohen's kappa of each row of two boolean matrices (NaN where chance agreement is 1).

    The bootstrap needs thousands of kappas: from the cell counts this is one numpy
    expression, where scikit-learn per resample would take seconds (the point estimate
    uses scikit-learn, and a test checks the two agree)."""
    n = a.shape[-1]
    observed = (a == b).sum(axis=-1) / n
    pa, pb = a.sum(axis=-1) / n, b.sum(axis=-1) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(chance < 1, (observed - chance) / (1 - chance), np.nan)


def cohen_kappa_ci(a: Sequence[bool], b: Sequence[bool], *, n_boot: int = 2000, seed: int = 0,
                   confidence: float = CONFIDENCE) -> Kappa:
    """Cohen's kappa of two raters' yes/no judgements of the same items (scikit-learn's
    cohen_kappa_score), with a percentile bootstrap CI resampling items.

    Resamples in which kappa has no value (every rating in one class) are left out of the
    interval; when fewer than half of them have one, the CI is (None, None): the data
    cannot say how far the raters agree."""
    from sklearn.metrics import cohen_kappa_score

    x, y = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if x.shape != y.shape:
        raise ValueError(f"two raters must judge the same items ({x.size} vs {y.size})")
    n = int(x.size)
    if n == 0:
        return Kappa(None, (None, None), 0, None)
    agreement = float((x == y).mean())
    if _binary_kappas(x, y) != _binary_kappas(x, y):  # NaN: one class only
        return Kappa(None, (None, None), n, agreement)
    value = float(cohen_kappa_score(x, y, labels=[False, True]))
    draw = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    boot = _binary_kappas(x[draw], y[draw])
    boot = boot[np.isfinite(boot)]
    if boot.size < n_boot / 2:
        return Kappa(value, (None, None), n, agreement)
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(boot, [tail, 1 - tail])
    return Kappa(value, (_finite_or_none(lo), _finite_or_none(hi)), n, agreement)


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa of items rated by the same number of raters into categories.

    `counts[i][j]`: how many raters put item i in category j. Fleiss (1971), "Measuring
    nominal scale agreement among many raters". Written here (a dozen lines of numpy)
    because statsmodels, which has it, is not otherwise a dependency. None when it has no
    value (every rating in one category, or fewer than 2 raters per item).
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or table.shape[0] == 0:
        return None
    raters = table.sum(axis=1)
    if np.any(raters != raters[0]) or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of raters for every item")
    m = raters[0]
    p_j = table.sum(axis=0) / table.sum()
    p_i = ((table * table).sum(axis=1) - m) / (m * (m - 1))
    p_bar, p_e = p_i.mean(), float((p_j * p_j).sum())
    if p_e >= 1:
        return None
    return float((p_bar - p_e) / (1 - p_e))
