"""Synthetic run directories for gate tests: records and summaries, no model."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from harness.core.records import Record, write_records
from harness.core.rundir import RunDir
from harness.core.stats import proportion_entry, rate_entry
from harness.core.summaries import SuiteInfo, SuiteSummary, metric, write_suite_summary

PAIRED_SUITES = {"medqa": 100, "pubmedqa": 60, "general": 100}


def base_pattern(suite: str, n: int, acc: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(suite.encode()))
    return rng.random(n) < acc


def write_model(run: RunDir, tag: str, *, drop: dict[str, int] | None = None,
                gain: dict[str, int] | None = None,
                skip: tuple[str, ...] = (), overrides: dict | None = None,
                device: str = "cpu", sizes: dict[str, int] | None = None) -> None:
    """Evaluate a fake model: `drop[suite]` items the base gets right become wrong,
    `gain[suite]` items it gets wrong become right."""
    eval_dir = run.eval_dir(tag)
    eval_dir.mkdir(parents=True, exist_ok=True)
    sizes = {**PAIRED_SUITES, **(sizes or {})}
    for suite, n in sizes.items():
        if suite in skip:
            continue
        correct = base_pattern(suite, n).copy()
        k = (drop or {}).get(suite, 0)
        idx = np.flatnonzero(correct)[:k]
        correct[idx] = False
        wrong = np.flatnonzero(~base_pattern(suite, n))[:(gain or {}).get(suite, 0)]
        correct[wrong] = True
        write_records(eval_dir / f"{suite}.records.jsonl", [
            Record(suite=suite, item_id=f"{suite}-{i}", prompt=f"{suite} question {i}",
                   gold="A", pred="A" if c else "B", correct=bool(c), demo=True)
            for i, c in enumerate(correct)])
        write_suite_summary(eval_dir, suite, SuiteSummary(
            metrics={"accuracy": proportion_entry(list(correct))},
            info=SuiteInfo(demo=True, device=device)))
    entries = {
        "medqa-robust": {"consistency": metric(0.97, (0.93, 0.99), 100),
                         "accuracy.clean": metric(0.6, (0.5, 0.7), 100)},
        "safety": {"harmful_rate": rate_entry(0, 45, 0.001),
                   "over_refusal_rate": rate_entry(3, 30)},
        "critical": {"critical_error_rate": rate_entry(0, 60, 0.01),
                     "accuracy": metric(0.5, (0.4, 0.6), 60)},
        "latency": {"p50_s": metric(0.8, None, 5), "p95_s": metric(1.2, None, 5)},
    }
    infos = {"latency": SuiteInfo(device=device)}
    for suite, entry in entries.items():
        if suite in skip:
            continue
        entry = {**entry, **(overrides or {}).get(suite, {})}
        # the items behind the numbers: a gate refuses metrics whose records are gone
        write_records(eval_dir / f"{suite}.records.jsonl", [
            Record(suite=suite, item_id=f"{suite}-{i}", prompt=f"{suite} prompt {i}", demo=True)
            for i in range(10)])
        write_suite_summary(eval_dir, suite, SuiteSummary(metrics=entry,
                                                          info=infos.get(suite, SuiteInfo())))


@pytest.fixture
def make_run(tmp_path: Path):
    def make(name: str = "run", **checkpoint_kwargs) -> RunDir:
        run = RunDir.create(tmp_path / name)
        write_model(run, "base")
        write_model(run, "checkpoint-10", **checkpoint_kwargs)
        return run
    return make
