"""Paired comparison of two models on the same items.

The measurement rule: a checkpoint is compared with its base on the same items, so
per-item agreement shrinks the interval (two models that agree on 90% of items differ
far less than two independent samples would suggest). The bootstrap itself is
harness.core.stats.paired_bootstrap_diff; this module pairs the records and refuses pairs
that are not the same item.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from gates.evidence import EvidenceError
from harness.core.records import Record
from harness.core.stats import (
    cluster_count,
    mcnemar_exact,
    paired_bootstrap_diff,
    upper_bound,
)
from harness.core.summaries import MetricEntry, metric


@dataclass(frozen=True)
class PairedDiff:
    """acc(model) - acc(base) on paired items, with a bootstrap CI and McNemar's p.

    `n` counts items (the independent units the bootstrap resampled); `n_records` the
    paired records, more than `n` when an item has several (perturbation variants).
    """

    n: int
    acc_model: float
    acc_base: float
    diff: float
    ci: tuple[float, float]
    only_model: int  # items the model gets right and the base wrong
    only_base: int
    mcnemar_p: float
    unpaired_model: int = 0
    unpaired_base: int = 0
    n_records: int = 0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["ci"] = list(self.ci)
        return d


def _index(records: Sequence[Record], label: str, variants: set[str] | None) -> dict:
    out: dict[tuple[str, str], Record] = {}
    for rec in records:
        if variants is not None and rec.variant not in variants:
            continue
        if rec.key in out:
            raise EvidenceError(f"{label}: duplicate record for item '{rec.item_id}' "
                                f"variant '{rec.variant}'")
        out[rec.key] = rec
    return out


@dataclass(frozen=True)
class PairedSample:
    """Per-record indicators of both models on the records they share (correctness, or a
    rate's event such as a harmful answer), each record's item (its cluster), and how
    many records only one side has."""

    model: np.ndarray
    base: np.ndarray
    items: list[str]
    model_records: list[Record]
    unpaired_model: int = 0
    unpaired_base: int = 0
    # The (item, variant) keys only one side has, sorted, so a reason can name one.
    unpaired_keys: tuple[tuple[str, str], ...] = ()


Events = Sequence[tuple[Record, bool]]


def pair_records(model: Sequence[Record], base: Sequence[Record], *,
                 variants: Sequence[str] | None = None, model_label: str = "model",
                 base_label: str = "base") -> PairedSample:
    """Per-record correctness of both models on the (item, variant) keys they share.

    Keys present on one side only are counted, not hidden; a shared key whose prompt
    differs, or a record with no `correct`, means the comparison is not like for like and
    raises.
    """
    wanted = set(variants) if variants else None
    m = _index(model, model_label, wanted)
    b = _index(base, base_label, wanted)
    for label, side in ((model_label, m), (base_label, b)):
        unscored = [k for k in sorted(m.keys() & b.keys()) if side[k].correct is None]
        if unscored:
            raise EvidenceError(f"{label}: {len(unscored)} records have no 'correct' "
                                f"(first: '{unscored[0][0]}')")
    return _pair({k: (r, bool(r.correct)) for k, r in m.items()},
                 {k: (r, bool(r.correct)) for k, r in b.items()}, model_label, base_label)


def pair_scores(model: Sequence[Record], base: Sequence[Record], score: str, *,
                model_label: str = "model", base_label: str = "base") -> PairedSample:
    """Per-record scores (`labels[score]`, e.g. ROUGE-L or a note's entity F1) of both
    models, paired by (item, variant) as pair_records pairs correctness; a shared record
    without a finite score is not like for like and raises."""
    m, b = _index(model, model_label, None), _index(base, base_label, None)
    sides = []
    for label, side in ((model_label, m), (base_label, b)):
        values = {}
        for key, rec in side.items():
            value = (rec.labels or {}).get(score)
            if not isinstance(value, int | float) or isinstance(value, bool) \
                    or not math.isfinite(value):
                if key in m.keys() & b.keys():
                    raise EvidenceError(f"{label}: record '{key[0]}' has no finite "
                                        f"'{score}' score to pair")
                value = math.nan
            values[key] = (rec, float(value))
        sides.append(values)
    return _pair(sides[0], sides[1], model_label, base_label)


def pair_events(model: Events, base: Events, *, model_label: str = "model",
                base_label: str = "base") -> PairedSample:
    """Per-record events of a rate (gates read them from the metric's registered events,
    suites.metrics.registry.record_events) of both models, paired by (item, variant) as
    pair_records pairs correctness."""
    return _pair(_index_events(model, model_label), _index_events(base, base_label),
                 model_label, base_label)


def _index_events(events: Events, label: str) -> dict[tuple[str, str], tuple[Record, bool]]:
    index = _index([r for r, _ in events], label, None)
    flags = {r.key: bool(flag) for r, flag in events}
    return {k: (r, flags[k]) for k, r in index.items()}


def _pair(m: dict[tuple[str, str], tuple[Record, float]],
          b: dict[tuple[str, str], tuple[Record, float]], model_label: str,
          base_label: str) -> PairedSample:
    keys = sorted(m.keys() & b.keys())
    changed = [k for k in keys if m[k][0].prompt_sha256 != b[k][0].prompt_sha256]
    if changed:
        item, variant = changed[0]
        raise EvidenceError(f"{len(changed)} paired items have a different prompt in "
                            f"{model_label} and {base_label} (first: '{item}' variant "
                            f"'{variant}'): not the same items")
    x = np.array([m[k][1] for k in keys], dtype=float)
    y = np.array([b[k][1] for k in keys], dtype=float)
    return PairedSample(x, y, [item for item, _ in keys], [m[k][0] for k in keys],
                        len(m) - len(keys), len(b) - len(keys),
                        tuple(sorted(m.keys() ^ b.keys())))


def paired_diff(model_correct: Sequence[float], base_correct: Sequence[float], *,
                n_boot: int = 2000, seed: int = 0, confidence: float = 0.95,
                unpaired_model: int = 0, unpaired_base: int = 0,
                clusters: Sequence[str] | None = None) -> PairedDiff:
    """The paired difference; with `clusters` (each record's item) the bootstrap resamples
    items with all their records, and `n` counts items. McNemar's exact p assumes
    independent records: shown for reference when records share items.

    Scores other than 0/1 (ROUGE-L, a note's entity F1) have no discordant pairs to count
    exactly: only_model/only_base count the items each side scores higher, McNemar's p is
    NaN, and the interval is the paired bootstrap alone."""
    x = np.asarray(model_correct, dtype=float)
    y = np.asarray(base_correct, dtype=float)
    records = int(x.size)
    if records == 0:
        return PairedDiff(0, math.nan, math.nan, math.nan, (math.nan, math.nan), 0, 0,
                          math.nan, unpaired_model, unpaired_base, 0)
    n = cluster_count(clusters) if clusters is not None else records
    # One record per item: the plain pair bootstrap (the same resamples as ever).
    diff, lo, hi = paired_bootstrap_diff(x, y, n_boot=n_boot, seed=seed, confidence=confidence,
                                         clusters=clusters if n < records else None)
    if not np.all(np.isin(x, (0.0, 1.0)) & np.isin(y, (0.0, 1.0))):
        return PairedDiff(n, float(x.mean()), float(y.mean()), diff, (lo, hi),
                          int(np.sum(x > y)), int(np.sum(x < y)), math.nan, unpaired_model,
                          unpaired_base, records)
    only_model = int(np.sum((x == 1) & (y == 0)))
    only_base = int(np.sum((x == 0) & (y == 1)))
    lo, hi = _exact_floor(lo, hi, only_model, only_base, records, confidence)
    return PairedDiff(n, float(x.mean()), float(y.mean()), diff, (lo, hi), only_model,
                      only_base, mcnemar_exact(only_model, only_base), unpaired_model,
                      unpaired_base, records)


def _exact_floor(lo: float, hi: float, only_model: int, only_base: int, n: int,
                 confidence: float) -> tuple[float, float]:
    """The bootstrap interval, widened where it claims more than exact counts allow.

    With few discordant items the percentile bootstrap collapses (no item where the base
    alone is right gives a lower bound of exactly 0, on 20 items as on 20,000). The
    difference is only_model/n - only_base/n, so it cannot be shown above
    only_model/n - (exact one-sided upper bound of only_base/n): the interval's lower end
    is at most that, and its upper end at least the mirror. This binds only when the
    bootstrap is over-confident.
    """
    alpha_one_sided = 1 - (1 - confidence) / 2
    floor = only_model / n - upper_bound(only_base, n, alpha_one_sided)
    ceiling = upper_bound(only_model, n, alpha_one_sided) - only_base / n
    return (min(lo, floor), max(hi, ceiling))


def forgetting_delta(base_records: Sequence[Record],
                     model_records: Sequence[Record]) -> MetricEntry:
    """Δ = acc(base) − acc(model) over the items both answered, paired-bootstrap 95% CI.

    The measurement rule for forgetting, as a metric entry for `medgate eval --baseline-dir`
    (a policy's `delta_vs_base` check applies the same difference with its own settings).
    """
    base = {r.key: r for r in base_records}
    model = {r.key: r for r in model_records}
    shared = sorted(set(base) & set(model))
    a = [float(bool(base[k].correct)) for k in shared]
    b = [float(bool(model[k].correct)) for k in shared]
    delta, lo, hi = paired_bootstrap_diff(a, b)
    unpaired = len(set(base) ^ set(model))
    return metric(delta, (lo, hi), len(shared), unpaired=unpaired,
                  method="paired bootstrap over items")
