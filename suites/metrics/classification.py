"""Multiple-choice metrics from records: accuracy, macro-F1, ECE and Brier.

Calibration uses the choice probabilities (the softmax of the choice log-likelihoods
over the offered options), the same scores the prediction is the argmax of.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.core.records import Record
from harness.core.stats import CONFIDENCE, clustered_proportion_entry, prediction_spread
from harness.core.summaries import MetricEntry, metric
from suites.metrics.registry import MetricInput, as_entry, register

N_BOOT = 1000
CLUSTER_BOOT = 2000


def choice_probs(record: Record) -> np.ndarray:
    lp = np.asarray(record.choice_logprobs or [], dtype=float)
    if lp.size == 0:
        return lp
    lp = lp - lp.max()
    p = np.exp(lp)
    return p / p.sum()


def _resamples(n: int, seed: int = 0) -> np.ndarray:
    """N_BOOT resampled index vectors (rows) over n items, seeded for reproducibility."""
    return np.random.default_rng(seed).integers(0, n, size=(N_BOOT, n))


def percentiles(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The two-sided percentile interval of bootstrap values at `confidence`."""
    alpha = (1 - confidence) / 2
    return (float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha)))


def accuracy(records: Sequence[Record], *, seed: int = 0,
             confidence: float = CONFIDENCE) -> MetricEntry:
    """Share of correct predictions: a Wilson interval when every record is its own item,
    else (several records of one item, e.g. variants) a cluster bootstrap over items."""
    entry = clustered_proportion_entry([bool(r.correct) for r in records],
                                       [r.item_id for r in records], n_boot=CLUSTER_BOOT,
                                       seed=seed, confidence=confidence)
    return as_entry(entry, "accuracy")


def macro_f1(records: Sequence[Record], labels: Sequence[str], *, seed: int = 0,
             confidence: float = CONFIDENCE) -> MetricEntry:
    """Unweighted mean of per-label F1 over `labels` (sklearn), bootstrap CI at `confidence`.

    The resampled F1s are counted with numpy (the same tp/fp/fn formula, zero_division=0):
    a thousand sklearn calls would take longer than scoring the items.
    """
    from sklearn.metrics import f1_score

    gold = np.asarray([str(r.gold) for r in records])
    pred = np.asarray([str(r.pred) for r in records])
    labels = list(labels)
    n = len(records)
    if n == 0:
        return metric(None, None, 0)
    value = float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0))
    idx = _resamples(n, seed)
    g, p = gold[idx], pred[idx]
    f1s = []
    for label in labels:
        tp = ((g == label) & (p == label)).sum(axis=1)
        fp = ((g != label) & (p == label)).sum(axis=1)
        fn = ((g == label) & (p != label)).sum(axis=1)
        denom = 2 * tp + fp + fn
        f1s.append(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0))
    boot = np.mean(f1s, axis=0)
    return metric(value, percentiles(boot, confidence), n, confidence=confidence,
                  method="sklearn f1_score(average='macro')")


def _calibration_arrays(records: Sequence[Record]) -> tuple[list[np.ndarray], np.ndarray]:
    probs, gold = [], []
    for r in records:
        p = choice_probs(r)
        if p.size == 0 or "gold_index" not in r.meta:
            continue
        probs.append(p)
        gold.append(int(r.meta["gold_index"]))
    return probs, np.asarray(gold, dtype=int)


def ece(records: Sequence[Record], bins: int = 10, *, seed: int = 0,
        confidence: float = CONFIDENCE) -> MetricEntry:
    """Expected calibration error of the top choice, equal-width confidence bins.

    scikit-learn has no multi-class ECE (calibration_curve is binary), so the binning is
    the few lines below: |accuracy - confidence| per bin, weighted by the bin's share.
    """
    probs, gold = _calibration_arrays(records)
    n = len(probs)
    if n == 0:
        return metric(None, None, 0, bins=bins)
    conf = np.asarray([p.max() for p in probs])
    hit = np.asarray([float(p.argmax() == g) for p, g in zip(probs, gold)])
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)

    def value(idx: np.ndarray) -> float:
        gap = np.bincount(which[idx], weights=hit[idx] - conf[idx], minlength=bins)
        return float(np.abs(gap).sum() / idx.size)  # sum over bins of |sum(acc - conf)| / n

    boot = np.asarray([value(row) for row in _resamples(n, seed)])
    return metric(value(np.arange(n)), percentiles(boot, confidence), n, bins=bins,
                  confidence=confidence)


def brier(records: Sequence[Record], *, seed: int = 0,
          confidence: float = CONFIDENCE) -> MetricEntry:
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

    if n == 0:
        return metric(None, None, 0)
    value = float(brier_score_loss(gold, matrix, labels=list(range(width)),
                                   scale_by_half=False))  # one scale for 2 or 5 options
    per_item = ((matrix - np.eye(width)[gold]) ** 2).sum(axis=1)  # the same score, per item
    boot = per_item[_resamples(n, seed)].mean(axis=1)
    return metric(value, percentiles(boot, confidence), n, confidence=confidence)


# --- registered -------------------------------------------------------------------------


@register("accuracy")
def _accuracy(data: MetricInput) -> MetricEntry:
    """Share of correct records; Wilson interval, clustered by item when items repeat."""
    return accuracy(data.records, seed=data.seed, confidence=data.confidence)


@register("accuracy.<subject>")
def _accuracy_by_subject(data: MetricInput) -> dict[str, MetricEntry]:
    """Accuracy per subject (a record's `meta.subject`), subjects in sorted order."""
    by_subject: dict[str, list[Record]] = {}
    for r in data.records:
        by_subject.setdefault(str(r.meta.get("subject")), []).append(r)
    return {subject: accuracy(recs, seed=data.seed, confidence=data.confidence)
            for subject, recs in sorted(by_subject.items())}


@register("macro_f1")
def _macro_f1(data: MetricInput) -> MetricEntry:
    """Macro-F1 over the labels in `options.labels` (else the gold labels seen)."""
    labels = data.options.get("labels") or sorted({str(r.gold) for r in data.records})
    return macro_f1(data.records, labels, seed=data.seed, confidence=data.confidence)


@register("ece")
def _ece(data: MetricInput) -> MetricEntry:
    """Expected calibration error of the top choice, 10 bins."""
    return ece(data.records, seed=data.seed, confidence=data.confidence)


@register("brier")
def _brier(data: MetricInput) -> MetricEntry:
    """Multi-class Brier score of the choice probabilities."""
    return brier(data.records, seed=data.seed, confidence=data.confidence)

@register("answer_spread")
def answer_spread(data: MetricInput) -> MetricEntry:
    """Share of the modal answer; degenerate when the answers collapse onto one option.

    A model that answers "B" to everything can still score near chance and pass a
    forgetting check by luck; the spread says so. Value: the modal answer's share of the
    records; extra fields from stats.prediction_spread: modal, entropy_bits,
    normalized_entropy, degenerate, gold_share_of_modal, counts. No interval: it
    describes these answers, it does not estimate a rate.
    """
    spread = prediction_spread([r.pred for r in data.records],
                               gold=[r.gold for r in data.records])
    extra = {}
    if spread["degenerate"]:
        extra["note"] = (f"degenerate: {spread['modal_share']:.0%} of {spread['n']} answers "
                         f"are '{spread['modal']}' (entropy {spread['entropy_bits']:.2f} bits)")
    return metric(spread["modal_share"], None, spread["n"], modal=spread["modal"],
                  entropy_bits=spread["entropy_bits"],
                  normalized_entropy=spread["normalized_entropy"],
                  degenerate=spread["degenerate"],
                  gold_share_of_modal=spread.get("gold_share_of_modal"),
                  counts=spread["counts"], **extra)
