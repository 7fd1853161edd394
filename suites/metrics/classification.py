"""Multiple-choice metrics from records: accuracy, macro-F1, ECE and Brier.

Calibration uses the choice probabilities (the softmax of the choice log-likelihoods
over the offered options), the same scores the prediction is the argmax of.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from harness.records import Record, metric
from harness.stats import proportion_entry

N_BOOT = 1000


def choice_probs(record: Record) -> np.ndarray:
    lp = np.asarray(record.choice_logprobs or [], dtype=float)
    if lp.size == 0:
        return lp
    lp = lp - lp.max()
    p = np.exp(lp)
    return p / p.sum()


def _bootstrap(values: Callable[[np.ndarray], float], n: int, seed: int = 0) -> tuple[float, float]:
    """Percentile CI of a statistic over resampled item indices."""
    if n == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    stats = [values(rng.integers(0, n, size=n)) for _ in range(N_BOOT)]
    return (float(np.quantile(stats, 0.025)), float(np.quantile(stats, 0.975)))


def accuracy(records: Sequence[Record]) -> dict[str, Any]:
    """Share of correct predictions with a 95% Wilson interval."""
    return proportion_entry([bool(r.correct) for r in records])


def macro_f1(records: Sequence[Record], labels: Sequence[str]) -> dict[str, Any]:
    """Unweighted mean of per-label F1 over `labels` (sklearn), bootstrap 95% CI."""
    from sklearn.metrics import f1_score

    gold = np.asarray([str(r.gold) for r in records])
    pred = np.asarray([str(r.pred) for r in records])
    labels = list(labels)

    def f1(idx: np.ndarray) -> float:
        return float(f1_score(gold[idx], pred[idx], labels=labels, average="macro",
                              zero_division=0))

    n = len(records)
    value = f1(np.arange(n)) if n else math.nan
    return metric(value, _bootstrap(f1, n), n, method="sklearn f1_score(average='macro')")


def _calibration_arrays(records: Sequence[Record]) -> tuple[list[np.ndarray], np.ndarray]:
    probs, gold = [], []
    for r in records:
        p = choice_probs(r)
        if p.size == 0 or "gold_index" not in r.meta:
            continue
        probs.append(p)
        gold.append(int(r.meta["gold_index"]))
    return probs, np.asarray(gold, dtype=int)


def ece(records: Sequence[Record], bins: int = 10) -> dict[str, Any]:
    """Expected calibration error of the top choice, equal-width confidence bins.

    scikit-learn has no multi-class ECE (calibration_curve is binary), so the binning is
    the few lines below: |accuracy - confidence| per bin, weighted by the bin's share.
    """
    probs, gold = _calibration_arrays(records)
    n = len(probs)
    conf = np.asarray([p.max() for p in probs])
    hit = np.asarray([float(p.argmax() == g) for p, g in zip(probs, gold)])

    def value(idx: np.ndarray) -> float:
        c, h = conf[idx], hit[idx]
        edges = np.linspace(0.0, 1.0, bins + 1)
        which = np.clip(np.digitize(c, edges[1:-1], right=True), 0, bins - 1)
        total = 0.0
        for b in range(bins):
            mask = which == b
            if mask.any():
                total += mask.mean() * abs(h[mask].mean() - c[mask].mean())
        return float(total)

    return metric(value(np.arange(n)) if n else math.nan, _bootstrap(value, n), n, bins=bins)


def brier(records: Sequence[Record]) -> dict[str, Any]:
    """Multi-class Brier score (sklearn): mean of sum_k (p_k - y_k)^2, 0 best, 2 worst.

    Items with different option counts are padded with zero probability, so a 4- and a
    5-option item are scored over the same label set.
    """
    from sklearn.metrics import brier_score_loss

    probs, gold = _calibration_arrays(records)
    n = len(probs)
    width = max((p.size for p in probs), default=0)
    matrix = np.zeros((n, width))
    for row, p in enumerate(probs):
        matrix[row, : p.size] = p

    def value(idx: np.ndarray) -> float:
        return float(brier_score_loss(gold[idx], matrix[idx], labels=list(range(width)),
                                      scale_by_half=False))  # one scale for 2 or 5 options

    return metric(value(np.arange(n)) if n else math.nan, _bootstrap(value, n), n)
