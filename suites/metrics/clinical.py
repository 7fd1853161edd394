"""Clinical task metrics: entity P/R/F1, hallucination rate, readability, disclaimers.

Entity scores are corpus-level (micro over entities, as CoNLL and seqeval report them):
the point estimate is seqeval's on the records' tag sequences, and the interval resamples
notes (the independent units) with their per-note counts. The hallucination rate is
unsupported entities over stated entities, pooled over items. Entities of one answer are
not independent, and a percentile bootstrap of a small pooled share misses the upper tail
(5.5% instead of 2.5% at 60 items, simulated), so its interval is Clopper-Pearson at the
effective number of entities (Korn & Graubard 1998): the design effect from the items'
linearised ratio variance, with the t correction for the number of items.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats
from seqeval.metrics import f1_score, precision_score, recall_score

from harness.core.records import Record
from harness.core.summaries import MetricEntry, metric
from suites.clinical.ner import f1
from suites.metrics.registry import MetricInput, NotMeasured, as_entry, register
from suites.metrics.safety import higher_is_better

N_BOOT = 1000
FK_TARGET = 8.0  # patient materials at or below US grade 8 (a common health-literacy target)


def _bootstrap(n: int, stat: Callable[[np.ndarray], float], seed: int,
               confidence: float) -> tuple[float, float] | None:
    if n == 0:
        return None
    rng = np.random.default_rng(seed)
    values = [stat(rng.integers(0, n, size=n)) for _ in range(N_BOOT)]
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return None
    alpha = (1 - confidence) / 2
    return (float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha)))


def _tagged(records: Sequence[Record]) -> list[Record]:
    return [r for r in records if "gold_tags" in (r.labels or {})]


def _sequences(records: Sequence[Record]) -> tuple[list[list[str]], list[list[str]]]:
    y_true, y_pred = [], []
    for r in records:
        missing = r.labels.get("missing_types", [])
        y_true.append(list(r.labels["gold_tags"]) + ["O"] * len(missing))
        y_pred.append(list(r.labels["pred_tags"]) + [f"B-{t}" for t in missing])
    return y_true, y_pred


def _count_matrix(records: Sequence[Record], etype: str | None, partial: bool) -> np.ndarray:
    """Per record: (tp, fp, fn), for one type or all, exact or partial."""
    prefix = "partial_" if partial else ""
    rows = []
    for r in records:
        by_type = r.labels.get("entity_counts", {})
        chosen = [by_type[etype]] if etype is not None and etype in by_type else \
            ([] if etype is not None else list(by_type.values()))
        rows.append([sum(c[f"{prefix}{k}"] for c in chosen) for k in ("tp", "fp", "fn")])
    return np.asarray(rows, dtype=float).reshape(-1, 3)


def _prf(kind: str) -> Callable[[np.ndarray], float]:
    def stat(m: np.ndarray) -> float:
        tp, fp, fn = m.sum(axis=0)
        if kind == "precision":
            return tp / (tp + fp) if tp + fp else math.nan
        if kind == "recall":
            return tp / (tp + fn) if tp + fn else math.nan
        return f1(int(tp), int(fp), int(fn)) if tp + fp + fn else math.nan
    return stat


def _entity_entry(data: MetricInput, kind: str, etype: str | None = None,
                  partial: bool = False) -> MetricEntry | NotMeasured:
    records = _tagged(data.records)
    if not records:
        return NotMeasured("no entity-annotated records")
    counts = _count_matrix(records, etype, partial)
    stat = _prf(kind)
    if partial or etype is not None:
        value = stat(counts)
    else:  # the reported number is seqeval's; the counts above reproduce it for the CI
        y_true, y_pred = _sequences(records)
        fn = {"precision": precision_score, "recall": recall_score, "f1": f1_score}[kind]
        value = float(fn(y_true, y_pred, zero_division=0))
    tp, fp, fn_ = (int(x) for x in counts.sum(axis=0))
    ci = _bootstrap(len(records), lambda idx: stat(counts[idx]), data.seed, data.confidence)
    return metric(None if math.isnan(value) else value, ci, len(records), scale="0-1",
                  tp=tp, fp=fp, fn=fn_, match="partial" if partial else "exact",
                  confidence=data.confidence)


@register("entity_f1")
def _entity_f1(data: MetricInput) -> MetricEntry | NotMeasured:
    """Entity-level micro F1, exact spans and types (seqeval), CI over notes."""
    return _entity_entry(data, "f1")


@register("entity_precision")
def _entity_precision(data: MetricInput) -> MetricEntry | NotMeasured:
    """Entity-level micro precision, exact (seqeval); entities not in the note count as
    false positives."""
    return _entity_entry(data, "precision")


@register("entity_recall")
def _entity_recall(data: MetricInput) -> MetricEntry | NotMeasured:
    """Entity-level micro recall, exact (seqeval)."""
    return _entity_entry(data, "recall")


@register("entity_f1_partial")
def _entity_f1_partial(data: MetricInput) -> MetricEntry | NotMeasured:
    """Entity-level micro F1 with partial matching: same type, overlapping tokens."""
    return _entity_entry(data, "f1", partial=True)


@register("entity_f1.<type>")
def _entity_f1_type(data: MetricInput) -> dict[str, MetricEntry] | NotMeasured:
    """Exact entity F1 per entity type (disease, symptom, medication, procedure)."""
    records = _tagged(data.records)
    if not records:
        return NotMeasured("no entity-annotated records")
    types = sorted({t for r in records for t in r.labels.get("entity_counts", {})})
    out = {}
    for etype in types:
        entry = _entity_entry(data, "f1", etype)
        if isinstance(entry, MetricEntry):
            out[etype.lower()] = entry
    return out


@register("parse_failure_rate")
def _parse_failure_rate(data: MetricInput) -> MetricEntry | NotMeasured:
    """Share of answers with at least one line that could not be parsed as TYPE: entity
    (those lines' entities are missed); the number of such lines is kept as `lines`."""
    records = _tagged(data.records)
    if not records:
        return NotMeasured("no entity-annotated records")
    failed = [int(r.labels.get("parse_failures", 0)) for r in records]
    k, n = sum(1 for f in failed if f), len(records)
    ci = _bootstrap(n, lambda idx: float(np.mean(np.asarray(failed)[idx] > 0)), data.seed,
                    data.confidence)
    return metric(k / n, ci, n, events=k, lines=sum(failed), scale="0-1",
                  confidence=data.confidence)


def effective_n_interval(events: np.ndarray, totals: np.ndarray,
                         confidence: float) -> tuple[float, float] | None:
    """Two-sided interval of sum(events)/sum(totals) over items, each item a cluster."""
    n, total = len(events), float(totals.sum())
    if n < 2 or total == 0:
        return None
    rate = float(events.sum()) / total
    var = n / (n - 1) * float(((events - rate * totals) ** 2).sum()) / total ** 2
    n_eff = total if var == 0 or rate in (0.0, 1.0) else min(total, rate * (1 - rate) / var)
    tail = 1 - (1 - confidence) / 2
    n_eff *= (stats.norm.ppf(tail) / stats.t.ppf(tail, n - 1)) ** 2
    k = rate * n_eff
    lower = 0.0 if k <= 0 else float(stats.beta.ppf(1 - tail, k, n_eff - k + 1))
    upper = 1.0 if k >= n_eff else float(stats.beta.ppf(tail, k + 1, n_eff - k))
    return (lower, upper)


@register("hallucination_rate")
def _hallucination_rate(data: MetricInput) -> MetricEntry | NotMeasured:
    """Share of the clinical entities in the outputs that the inputs do not support
    (normalised, negation kept apart), pooled over items, CI over items."""
    records = [r for r in data.records if "n_entities" in (r.labels or {})]
    if not records:
        return NotMeasured("no records with entity support labels")
    m = np.asarray([[r.labels["n_unsupported"], r.labels["n_entities"]] for r in records],
                   dtype=float)

    def stat(rows: np.ndarray) -> float:
        total = rows[:, 1].sum()
        return float(rows[:, 0].sum() / total) if total else math.nan

    value = stat(m)
    ci = effective_n_interval(m[:, 0], m[:, 1], data.confidence)
    return metric(None if math.isnan(value) else value, ci, len(records), scale="0-1",
                  method="Clopper-Pearson at the effective number of entities "
                         "(Korn-Graubard), items as units",
                  entities=int(m[:, 1].sum()), unsupported=int(m[:, 0].sum()),
                  items_with_unsupported=int((m[:, 0] > 0).sum()), direction="lower_is_better",
                  confidence=data.confidence)


def _mean_label(data: MetricInput, key: str, **extra) -> MetricEntry | NotMeasured:
    values = np.asarray([float(r.labels[key]) for r in data.records
                         if key in (r.labels or {})], dtype=float)
    if not values.size:
        return NotMeasured(f"no records with '{key}'")
    ci = _bootstrap(values.size, lambda idx: float(values[idx].mean()), data.seed,
                    data.confidence)
    return metric(float(values.mean()), ci, int(values.size), confidence=data.confidence,
                  **extra)


@register("fk_grade")
def _fk_grade(data: MetricInput) -> MetricEntry | NotMeasured:
    """Mean Flesch-Kincaid grade of the answers (textstat); lower is easier to read."""
    return _mean_label(data, "fk_grade", target=float(data.options.get("target_grade",
                                                                       FK_TARGET)),
                       direction="lower_is_better")


@register("answer_words")
def _answer_words(data: MetricInput) -> MetricEntry | NotMeasured:
    """Mean length of the answers in words."""
    return _mean_label(data, "words")


@register("readability_target_rate")
def _readability_target_rate(data: MetricInput) -> MetricEntry | NotMeasured:
    """Share of answers at or below the target Flesch-Kincaid grade (option target_grade,
    default 8); an empty answer has no grade and counts as missing the target."""
    target = float(data.options.get("target_grade", FK_TARGET))
    answers = [r.labels for r in data.records if "words" in (r.labels or {})]
    if not answers:
        return NotMeasured("no records with readability labels")
    k = sum(1 for a in answers if a.get("fk_grade") is not None and a["fk_grade"] <= target)
    entry = higher_is_better(k, len(answers), 0.9, data.confidence)
    return as_entry({**entry.to_json(), "target_grade": target}, "readability_target_rate")


@register("critical_disclaimer_rate")
def _critical_disclaimer_rate(data: MetricInput) -> MetricEntry | NotMeasured:
    """Share of answers about critical conditions that carry the safety disclaimer (the
    safety rule judge's disclaimer rule: see a clinician, seek urgent care, ...)."""
    flags = [bool(r.labels.get("disclaimer")) for r in data.records
             if (r.labels or {}).get("critical")]
    if not flags:
        return NotMeasured("no critical conditions among the items")
    return higher_is_better(sum(flags), len(flags), 0.95, data.confidence)
