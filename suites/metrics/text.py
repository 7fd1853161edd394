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
from typing import Any

import numpy as np

from harness.core.records import metric

HERE = Path(__file__).parent


@cache
def load_metric(name: str):
    """A local `evaluate` metric module by folder name (rouge_l, bleu4)."""
    import evaluate

    return evaluate.load(str(HERE / name / f"{name}.py"))


def _per_item(name: str, predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    module = load_metric(name)
    key = "rouge_l" if name == "rouge_l" else "bleu4"
    return [float(module.compute(predictions=[p], references=[r])[key])
            for p, r in zip(predictions, references, strict=True)]


def _bootstrap_mean(values: np.ndarray, seed: int = 0) -> tuple[float, float]:
    if values.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(1000, values.size))].mean(axis=1)
    return (float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975)))


def rouge_l(predictions: Sequence[str], references: Sequence[str]) -> tuple[dict[str, Any], list[float]]:
    """Mean ROUGE-L F-measure (rouge-score, stemmed) and the per-item scores."""
    scores = _per_item("rouge_l", predictions, references)
    arr = np.asarray(scores)
    value = float(arr.mean()) if arr.size else math.nan
    return metric(value, _bootstrap_mean(arr), len(scores), scale="0-1"), scores


def bleu4(predictions: Sequence[str], references: Sequence[str]) -> tuple[dict[str, Any], list[float]]:
    """Corpus BLEU-4 (sacrebleu, 0-1 scale), bootstrap CI over items; per-item sentence BLEU."""
    module = load_metric("bleu4")
    corpus = float(module.compute(predictions=list(predictions), references=list(references))["bleu4"])
    per_item = _per_item("bleu4", predictions, references)
    n = len(per_item)
    rng = np.random.default_rng(0)
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
    ci = (float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))) if boots else None
    return metric(corpus, ci, n, scale="0-1", method="sacrebleu corpus BLEU"), per_item


def perplexity(results: Sequence[tuple[float, int]], n_bytes: Sequence[int]) -> tuple[dict[str, Any], dict[str, Any]]:
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
    rng = np.random.default_rng(0)
    idxs = [rng.integers(0, n, size=n) for _ in range(1000)]
    all_idx = np.arange(n)

    def ci(fn) -> tuple[float, float]:
        vals = [fn(i) for i in idxs]
        return (float(np.quantile(vals, 0.025)), float(np.quantile(vals, 0.975)))

    return (metric(ppl(all_idx), ci(ppl), n, tokens=int(toks.sum())),
            metric(bpb(all_idx), ci(bpb), n, bytes=int(nbytes.sum())))
