"""Free-text metrics: ROUGE-L and BLEU-4 through `evaluate`, and perplexity.

`evaluate.load("rouge")` fetches its metric script from the hub, which an offline
machine cannot do; the metric modules next to this file (rouge_l/, bleu4/) are local
`evaluate` metrics over rouge-score and sacrebleu and load with no network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from harness.core.records import Record
from harness.core.stats import CONFIDENCE
from harness.core.summaries import MetricEntry, metric
from suites.metrics.registry import MetricInput, register

HERE = Path(__file__).parent


@cache
def load_metric(name: str):
    """A local `evaluate` metric module by folder name (rouge_l, bleu4)."""
    import evaluate

    return evaluate.load(str(HERE / name / f"{name}.py"))


def per_item(name: str, predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    """Each prediction's score against its reference by the local metric `name`."""
    module = load_metric(name)
    key = "rouge_l" if name == "rouge_l" else "bleu4"
    return [float(module.compute(predictions=[p], references=[r])[key])
            for p, r in zip(predictions, references, strict=True)]


def _quantiles(values: Sequence[float], confidence: float) -> tuple[float, float]:
    alpha = (1 - confidence) / 2
    return (float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha)))


def _bootstrap_mean(values: np.ndarray, seed: int = 0,
                    confidence: float = CONFIDENCE) -> tuple[float, float]:
    if values.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(1000, values.size))].mean(axis=1)
    return _quantiles(means, confidence)


def rouge_l_mean(scores: Sequence[float], *, seed: int = 0,
                 confidence: float = CONFIDENCE) -> MetricEntry:
    """Mean of per-item ROUGE-L F-measures, bootstrap CI at `confidence`."""
    arr = np.asarray(scores, dtype=float)
    value = float(arr.mean()) if arr.size else math.nan
    return metric(value, _bootstrap_mean(arr, seed, confidence), len(scores), scale="0-1",
                  confidence=confidence)


def rouge_l(predictions: Sequence[str], references: Sequence[str]
            ) -> tuple[MetricEntry, list[float]]:
    """Mean ROUGE-L F-measure (rouge-score, stemmed) and the per-item scores."""
    scores = per_item("rouge_l", predictions, references)
    return rouge_l_mean(scores), scores


def bleu4(predictions: Sequence[str], references: Sequence[str]
          ) -> tuple[MetricEntry, list[float]]:
    """Corpus BLEU-4 (sacrebleu, 0-1 scale), bootstrap CI over items; per-item sentence BLEU."""
    return bleu4_corpus(predictions, references), per_item("bleu4", predictions, references)


def bleu4_corpus(predictions: Sequence[str], references: Sequence[str], *, seed: int = 0,
                 confidence: float = CONFIDENCE) -> MetricEntry:
    """Corpus BLEU-4 (sacrebleu, 0-1 scale), bootstrap CI over items at `confidence`."""
    module = load_metric("bleu4")
    corpus = float(module.compute(predictions=list(predictions), references=list(references))["bleu4"])
    n = len(predictions)
    rng = np.random.default_rng(seed)
    boots = []
    if n:
        # the resampled corpora go to sacrebleu directly: the same BLEU as the module, without
        # `evaluate`'s per-call Arrow round trip a thousand times over
        import sacrebleu

        scorer = sacrebleu.metrics.BLEU(max_ngram_order=4)
        preds, refs = list(predictions), list(references)
        for _ in range(1000):
            idx = rng.integers(0, n, size=n)
            boots.append(scorer.corpus_score([preds[i] for i in idx],
                                             [[refs[i] for i in idx]]).score / 100.0)
    ci = _quantiles(boots, confidence) if boots else None
    return metric(corpus, ci, n, scale="0-1", method="sacrebleu corpus BLEU",
                  confidence=confidence)


def perplexity(results: Sequence[tuple[float, int]], n_bytes: Sequence[int], *, seed: int = 0,
               confidence: float = CONFIDENCE) -> tuple[MetricEntry, MetricEntry]:
    """Token perplexity and bits per byte over documents, bootstrap CIs over documents."""
    ll = np.asarray([r[0] for r in results], dtype=float)
    toks = np.asarray([r[1] for r in results], dtype=float)
    nbytes = np.asarray(n_bytes, dtype=float)
    n = ll.size

    def ppl(idx: np.ndarray) -> float:
        return float(math.exp(-ll[idx].sum() / toks[idx].sum()))

    def bpb(idx: np.ndarray) -> float:
        return float(-ll[idx].sum() / (math.log(2) * nbytes[idx].sum()))

    if n == 0:
        return metric(None, None, 0), metric(None, None, 0)
    rng = np.random.default_rng(seed)
    idxs = [rng.integers(0, n, size=n) for _ in range(1000)]
    all_idx = np.arange(n)

    def ci(fn) -> tuple[float, float]:
        return _quantiles([fn(i) for i in idxs], confidence)

    return (metric(ppl(all_idx), ci(ppl), n, tokens=int(toks.sum()), confidence=confidence),
            metric(bpb(all_idx), ci(bpb), n, bytes=int(nbytes.sum()), confidence=confidence))


# --- registered -------------------------------------------------------------------------


def _item_scores(records: Sequence[Record], name: str) -> list[float]:
    """Per-item scores from the records' labels, computed when a record lacks them."""
    if all(name in (r.labels or {}) for r in records):
        return [float(r.labels[name]) for r in records]
    return per_item(name, [r.output or "" for r in records], [r.gold or "" for r in records])


@register("rouge_l")
def _rouge_l(data: MetricInput) -> MetricEntry:
    """Mean ROUGE-L F-measure of the outputs against the references (records' gold)."""
    return rouge_l_mean(_item_scores(data.records, "rouge_l"), seed=data.seed,
                        confidence=data.confidence)


@register("bleu4")
def _bleu4(data: MetricInput) -> MetricEntry:
    """Corpus BLEU-4 of the outputs against the references (records' gold)."""
    return bleu4_corpus([r.output or "" for r in data.records],
                        [r.gold or "" for r in data.records], seed=data.seed,
                        confidence=data.confidence)


def _rolling(data: MetricInput) -> tuple[MetricEntry, MetricEntry]:
    labels = [r.labels or {} for r in data.records]
    return perplexity([(float(x["loglikelihood"]), int(x["tokens"])) for x in labels],
                      [int(x["bytes"]) for x in labels], seed=data.seed,
                      confidence=data.confidence)


@register("perplexity")
def _perplexity(data: MetricInput) -> MetricEntry:
    """Token perplexity over the texts (labels loglikelihood, tokens)."""
    return _rolling(data)[0]


@register("bits_per_byte")
def _bits_per_byte(data: MetricInput) -> MetricEntry:
    """Bits per UTF-8 byte over the texts (labels loglikelihood, bytes)."""
    return _rolling(data)[1]
