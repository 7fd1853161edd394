"""Comparing two evaluated models metric by metric, paired wherever the items match.

Accuracy-like metrics are recomputed from per-item records so that the difference gets
a paired bootstrap CI and McNemar's exact p; metrics that exist only as summaries (ECE,
rates, latency) are shown side by side with their own CIs and marked as not tested,
because without per-item data no honest paired test exists for them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gates.evidence import EvidenceError, ModelEvidence
from gates.judge import resolve_baseline_tag
from gates.paired import pair_records, paired_diff
from harness.core.rundir import BASE_TAG, RunDir
from harness.core.summaries import SuiteSummary, finite


@dataclass
class Comparison:
    suite: str
    metric: str
    a: float | None
    b: float | None
    diff: float | None  # b - a
    ci: list[float | None] | None
    p_value: float | None
    n: int | None
    method: str
    significant: bool | None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _paired_rows(suite: str, a: ModelEvidence, b: ModelEvidence, *, n_boot: int,
                 seed: int, confidence: float) -> list[Comparison]:
    try:
        ra, rb = a.records(suite), b.records(suite)
    except EvidenceError:
        return []
    groups: list[tuple[str, list[str] | None]] = [("accuracy", None)]
    variants = sorted({r.variant for r in ra} & {r.variant for r in rb})
    if len(variants) > 1:
        groups += [(f"accuracy.{v}", [v]) for v in variants]
    rows = []
    for name, wanted in groups:
        try:
            sample = pair_records(rb, ra, variants=wanted, model_label=b.label,
                                  base_label=a.label)
        except EvidenceError as exc:
            rows.append(Comparison(suite, name, None, None, None, None, None, None,
                                   "not paired", None, str(exc)))
            continue
        only_in_b, only_in_a = sample.unpaired_model, sample.unpaired_base
        if sample.model.size == 0:
            continue
        d = paired_diff(sample.model, sample.base, n_boot=n_boot, seed=seed,
                        confidence=confidence, clusters=sample.items)
        lo, hi = d.ci
        note = f"{d.only_model} items only B right, {d.only_base} only A right"
        if only_in_a or only_in_b:
            note += f"; unpaired: {only_in_a} only in A, {only_in_b} only in B"
        rows.append(Comparison(suite, name, finite(d.acc_base), finite(d.acc_model), finite(d.diff),
                               [finite(lo), finite(hi)], finite(d.mcnemar_p), d.n,
                               "paired bootstrap + McNemar", bool(lo > 0 or hi < 0), note))
    return rows


def _summary_rows(suite: str, sa: SuiteSummary, sb: SuiteSummary,
                  skip: set[str]) -> list[Comparison]:
    rows = []
    for name, ea in sa.metrics.items():
        if name in skip or name not in sb.metrics:
            continue
        eb = sb.metrics[name]
        va, vb = finite(ea.value), finite(eb.value)
        diff = vb - va if va is not None and vb is not None else None
        note = f"A CI {ea.ci}, B CI {eb.ci}" if ea.ci or eb.ci else ""
        rows.append(Comparison(suite, name, va, vb, diff, None, None, eb.n,
                               "summary only (no per-item pairing; not tested)", None, note))
    return rows


def compare_models(a: ModelEvidence, b: ModelEvidence, *, n_boot: int = 2000, seed: int = 0,
                   confidence: float = 0.95) -> list[Comparison]:
    """Rows for every suite both models have; diff is B - A."""
    sa, sb = a.summary(), b.summary()
    rows: list[Comparison] = []
    for suite in [s for s in sa if s in sb]:
        ea, eb = sa[suite], sb[suite]
        if ea.failed or eb.failed:
            rows.append(Comparison(suite, "*", None, None, None, None, None, None, "crashed",
                                   None, f"A: {ea.error or 'ok'}; B: {eb.error or 'ok'}"))
            continue
        paired = _paired_rows(suite, a, b, n_boot=n_boot, seed=seed, confidence=confidence)
        rows += paired
        rows += _summary_rows(suite, ea, eb, {r.metric for r in paired})
    for suite in sorted(set(sa) ^ set(sb)):
        side = "A" if suite in sa else "B"
        rows.append(Comparison(suite, "*", None, None, None, None, None, None, "missing", None,
                               f"suite only in {side}"))
    return rows


def default_tag(run: RunDir) -> str | None:
    """The model a run stands for: its promoted checkpoint, else its last evaluated model."""
    tag = resolve_baseline_tag(run)
    if tag != BASE_TAG:
        return tag
    tags = run.model_tags()
    return tags[-1] if tags else None
