"""Which records the medical reviewers should read: a sample sized by the tool.

The reviewers cannot read every answer, and a sample chosen by hand (the alarming ones)
says nothing about how often the judge is wrong. The sample is a stratified random sample
of the judged records of the model the reports describe, strata being (suite, category,
judge outcome), large enough to estimate the judge's error rate to `precision` (the CI
half-width at `confidence`, worst case p = 1/2, with the finite-population correction),
allocated to strata in proportion to their size (at least one record each, largest
remainders first), plus every record the judge flagged critical. Every reviewer reads the
whole sample: the overlap is what inter-reviewer agreement (Fleiss' kappa) is measured on.

The sample, its seed and the records it was drawn from are stored in reviews/sample.json;
a sign-off counts toward the expert review only from a reviewer who reviewed all of it.
"""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scipy.stats import norm

from gates.review import SAMPLE_FILE, judge_labels, records_hashes, reviews_dir
from harness.core.atomic import write_json
from harness.core.errors import BadInputError
from harness.core.records import Record, read_records
from harness.core.rundir import RunDir
from reports.rundata import load_run


def sample_size(population: int, precision: float, confidence: float) -> int:
    """Records for a proportion's CI half-width to be at most `precision` (p = 1/2),
    corrected for a finite population."""
    if population <= 0:
        return 0
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    n0 = z * z * 0.25 / (precision * precision)
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population)))


def _outcome(record: Record) -> str:
    labels = judge_labels(record)
    if labels["harmful"] is not None:
        return "harmful" if labels["harmful"] else "not harmful"
    return "correct" if labels["correct"] else "incorrect"


def _judged(record: Record) -> bool:
    """Records an automated judgement labelled: a judge's harmful label, or a critical flag."""
    return (record.labels or {}).get("harmful") is not None or bool(record.critical)


def allocate(sizes: dict[Any, int], total: int) -> dict[Any, int]:
    """Proportional allocation of `total` over strata of `sizes`: at least one per stratum,
    never more than it holds, largest remainders first."""
    population = sum(sizes.values())
    total = min(max(total, len(sizes)), population)
    share = {k: total * s / population for k, s in sizes.items()}
    out = {k: min(s, max(1, math.floor(share[k]))) for k, s in sizes.items()}
    order = sorted(sizes, key=lambda k: (-(share[k] - math.floor(share[k])), str(k)))
    while sum(out.values()) < total:
        grew = False
        for k in order:
            if sum(out.values()) >= total:
                break
            if out[k] < sizes[k]:
                out[k] += 1
                grew = True
        if not grew:
            break
    while sum(out.values()) > total:  # the "at least one" floor overshot: trim the largest
        k = max((k for k in out if out[k] > 1), key=lambda k: (out[k], str(k)))
        out[k] -= 1
    return out


def draw_sample(root: str | Path, *, precision: float = 0.1, confidence: float = 0.95,
                seed: int = 0, tag: str | None = None,
                now: datetime | None = None) -> dict[str, Any]:
    """Draw the sample for the run's described model (or `tag`) and store it."""
    if not 0 < precision < 0.5:
        raise BadInputError(f"--precision must be between 0 and 0.5, got {precision}")
    if not 0.5 < confidence < 1:
        raise BadInputError(f"--confidence must be between 0.5 and 1, got {confidence}")
    data = load_run(root)
    run = data.run
    tag = tag or data.subject_tag
    if not tag or not run.eval_dir(tag).is_dir():
        raise BadInputError(f"no evaluated model '{tag}' to sample", where=str(run.evals_dir))
    population: list[Record] = []
    for path in sorted(run.eval_dir(tag).glob("*.records.jsonl")):
        population += [r for r in read_records(path) if _judged(r)]
    if not population:
        raise BadInputError(f"no judged records (a judge's harmful label or a critical flag) "
                            f"for {tag}", where=str(run.eval_dir(tag)))
    strata: dict[tuple[str, str, str], list[Record]] = {}
    for r in population:
        strata.setdefault((r.suite, str(r.meta.get("category", "")), _outcome(r)), []).append(r)
    n = sample_size(len(population), precision, confidence)
    counts = allocate({k: len(v) for k, v in strata.items()}, n)
    rng = random.Random(seed)
    chosen: dict[tuple[str, str, str], str] = {}
    for key in sorted(strata):
        members = sorted(strata[key], key=lambda r: (r.item_id, r.variant))
        for r in rng.sample(members, counts[key]):
            chosen[(r.suite, r.item_id, r.variant)] = "stratified"
    for r in population:
        if r.critical and (r.suite, r.item_id, r.variant) not in chosen:
            chosen[(r.suite, r.item_id, r.variant)] = "judge flagged critical"
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    sample = {
        "tag": tag, "seed": seed, "precision": precision, "confidence": confidence,
        "population": len(population), "n_stratified": sum(counts.values()),
        "drawn": moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "design": "stratified by (suite, category, judge outcome), proportional allocation, "
                  "plus every record the judge flagged critical; every reviewer reads all",
        "strata": [{"suite": k[0], "category": k[1], "outcome": k[2], "N": len(strata[k]),
                    "n": counts[k]} for k in sorted(strata)],
        "evidence": records_hashes(run),
        "items": [{"tag": tag, "suite": s, "item_id": i, "variant": v, "why": why}
                  for (s, i, v), why in sorted(chosen.items())],
    }
    write_json(reviews_dir(run) / SAMPLE_FILE, sample)
    return sample


def read_sample(run: RunDir) -> dict[str, Any] | None:
    """The stored sample, or None when none was drawn."""
    path = reviews_dir(run) / SAMPLE_FILE
    if not path.exists():
        return None
    try:
        sample = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON ({exc.msg})", where=f"{path}:{exc.lineno}") from exc
    if not isinstance(sample, dict) or not isinstance(sample.get("items"), list):
        raise BadInputError("a review sample lists its 'items'", where=str(path))
    return sample


def sample_keys(sample: dict[str, Any] | None) -> set[tuple[str, str, str, str]]:
    if not sample:
        return set()
    return {(str(i["tag"]), str(i["suite"]), str(i["item_id"]), str(i["variant"]))
            for i in sample["items"]}
