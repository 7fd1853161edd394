"""Synthetic run directories for gate tests: records, and summaries computed from them.

Every suite's summary is computed from its records by the suite's own registered metrics
(the spec's `metrics:` list), as an evaluation would, so a gate that recomputes a metric
on part of the items reads the same numbers a suite reports. The default sizes are large
enough for the default policy to *show* its thresholds on an unchanged checkpoint (3000
harmful requests per half of the split, for instance): a smaller suite is insufficient
evidence, which tests ask for with `sizes`.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.core.records import Record, write_records
from harness.core.rundir import RunDir
from harness.core.summaries import SuiteInfo, SuiteSummary, write_suite_summary
from suites.metrics import compute_metrics
from suites.registry import get_spec

PAIRED_SUITES = {"medqa": 160, "pubmedqa": 160, "general": 160}
SIZES = {**PAIRED_SUITES, "medqa-robust": 160, "safety-harmful": 6400, "safety-benign": 160,
         "critical": 700, "latency": 5}
VARIANTS = ["typo_keyboard", "synonym"]


def base_pattern(suite: str, n: int, acc: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(suite.encode()))
    return rng.random(n) < acc


def paired_records(suite: str, correct: np.ndarray) -> list[Record]:
    return [Record(suite=suite, item_id=f"{suite}-{i}", prompt=f"{suite} question {i}",
                   gold="A", pred="A" if c else "B", correct=bool(c), demo=True)
            for i, c in enumerate(correct)]


def _robust_records(n: int, inconsistent: int) -> list[Record]:
    out = []
    for i in range(n):
        item = f"medqa-{i}"
        out.append(Record(suite="medqa-robust", item_id=item, prompt=f"medqa question {i}",
                          gold="A", pred="A", correct=True, demo=True,
                          meta={"pred_index": 0, "option_map": [0, 1, 2, 3]}))
        for variant in VARIANTS:
            pred = 1 if i < inconsistent else 0
            out.append(Record(suite="medqa-robust", item_id=item, variant=variant,
                              prompt=f"medqa question {i} ({variant})", gold="A",
                              pred="AB"[pred], correct=pred == 0, demo=True,
                              meta={"pred_index": pred, "option_map": [0, 1, 2, 3]}))
    return out


def _safety_records(harmful: int, n_harmful: int, refusals: int, n_benign: int,
                    missing_disclaimers: int) -> list[Record]:
    out = []
    for i in range(n_harmful):
        bad = i < harmful
        out.append(Record(suite="safety", item_id=f"harm-{i}", prompt=f"harmful request {i}",
                          output="..." if bad else "I can't help with that.",
                          labels={"harmful": bad, "refusal": not bad, "disclaimer": False,
                                  "judge": "rules-v2"},
                          gold="refuse", pred="comply" if bad else "refuse", correct=not bad,
                          demo=True, meta={"kind": "harmful", "category": "ethics"}))
    for i in range(n_benign):
        refused = i < refusals
        out.append(Record(suite="over-refusal", item_id=f"benign-{i}",
                          prompt=f"benign question {i}",
                          output="I'm sorry, I cannot." if refused else "An answer; see a doctor.",
                          labels={"harmful": False, "refusal": refused,
                                  "disclaimer": i >= missing_disclaimers, "judge": "rules-v2"},
                          gold="answer", pred="refuse" if refused else "answer",
                          correct=not refused, demo=True,
                          meta={"kind": "benign", "category": "benign",
                                "critical_decision": True}))
    return out


def _critical_records(n: int, errors: int) -> list[Record]:
    return [Record(suite="critical", item_id=f"critical-{i}", prompt=f"critical item {i}",
                   gold="A", pred="C" if i < errors else "A", correct=i >= errors,
                   critical=i < errors, demo=True) for i in range(n)]


def _latency_records(n: int, seconds: float) -> list[Record]:
    return [Record(suite="latency", item_id=f"note-{i}", prompt=f"note {i}",
                   output="summary", labels={"seconds": seconds}, demo=True)
            for i in range(n)]


def _summarise(suite: str, records: list[Record], device: str) -> SuiteSummary:
    spec = get_spec(suite)
    options = dict(spec.options)
    if suite == "medqa-robust":
        options["variants"] = VARIANTS
    metrics = compute_metrics(spec.metrics, records, options=options, seed=0)
    info = SuiteInfo(demo=True, device=device, n_items=len(records),
                     **({"metrics_absent": metrics.absent} if metrics.absent else {}))
    return SuiteSummary(metrics=metrics, info=info)


def write_model(run: RunDir, tag: str, *, drop: dict[str, int] | None = None,
                gain: dict[str, int] | None = None, skip: tuple[str, ...] = (),
                device: str = "cpu", sizes: dict[str, int] | None = None,
                harmful: int = 0, refusals: int = 0, missing_disclaimers: int = 0,
                critical_errors: int = 0, inconsistent: int = 0,
                latency_s: float = 1.2, records: dict[str, list[Record]] | None = None) -> None:
    """Evaluate a fake model: `drop[suite]` items the base gets right become wrong,
    `gain[suite]` items it gets wrong become right; the safety (harmful requests in
    `safety`, benign controls in `over-refusal`), critical and robustness counts are events
    among their items; `records` replaces a suite's records."""
    eval_dir = run.eval_dir(tag)
    eval_dir.mkdir(parents=True, exist_ok=True)
    n = {**SIZES, **(sizes or {})}
    by_suite: dict[str, list[Record]] = {}
    for suite in PAIRED_SUITES:
        correct = base_pattern(suite, n[suite]).copy()
        idx = np.flatnonzero(correct)[:(drop or {}).get(suite, 0)]
        correct[idx] = False
        wrong = np.flatnonzero(~base_pattern(suite, n[suite]))[:(gain or {}).get(suite, 0)]
        correct[wrong] = True
        by_suite[suite] = paired_records(suite, correct)
    by_suite["medqa-robust"] = _robust_records(n["medqa-robust"], inconsistent)
    safety = _safety_records(harmful, n["safety-harmful"], refusals, n["safety-benign"],
                             missing_disclaimers)
    by_suite["safety"] = [r for r in safety if r.suite == "safety"]
    by_suite["over-refusal"] = [r for r in safety if r.suite == "over-refusal"]
    by_suite["critical"] = _critical_records(n["critical"], critical_errors)
    by_suite["latency"] = _latency_records(n["latency"], latency_s)
    by_suite.update(records or {})
    for suite, rows in by_suite.items():
        if suite in skip:
            continue
        write_records(eval_dir / f"{suite}.records.jsonl", rows)
        write_suite_summary(eval_dir, suite, _summarise(suite, rows, device))


def no_split(policy: Any) -> Any:
    """The policy with the selection/confirmation split off (every item judged, the
    summary's own entries read as written)."""
    policy.selection.confirm_fraction = 0.0
    return policy


@pytest.fixture
def make_run(tmp_path: Path):
    def make(name: str = "run", **checkpoint_kwargs) -> RunDir:
        run = RunDir.create(tmp_path / name)
        write_model(run, "base")
        write_model(run, "checkpoint-10", **checkpoint_kwargs)
        return run
    return make
