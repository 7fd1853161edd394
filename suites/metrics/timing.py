"""Latency metrics: median and 95th-percentile seconds of the records' timed answers."""

from __future__ import annotations

import statistics

from harness.core.summaries import MetricEntry, metric
from suites.metrics.registry import MetricInput, register


def _seconds(data: MetricInput) -> list[float]:
    return [float((r.labels or {})["seconds"]) for r in data.records]


@register("p50_s")
def p50_s(data: MetricInput) -> MetricEntry:
    """Median seconds to generate an answer (labels.seconds)."""
    seconds = _seconds(data)
    return metric(statistics.median(seconds) if seconds else None, None, len(seconds))


@register("p95_s")
def p95_s(data: MetricInput) -> MetricEntry:
    """95th-percentile seconds to generate an answer, nearest rank."""
    ordered = sorted(_seconds(data))
    if not ordered:
        return metric(None, None, 0, method="nearest rank")
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return metric(p95, None, len(ordered), method="nearest rank")
