"""A run killed with SIGKILL at any stage and resumed ends with the gate of an unkilled run.

One run directory is killed five times, each time one stage further (baseline
evaluation, a checkpoint's evaluation, training between checkpoints, the last
checkpoint's evaluation, reporting after the gate), then resumed to the end. Its
gate.json, every records file and every summary metric must equal those of the
uninterrupted reference run. Each run has its own empty cache, so nothing is borrowed
from the reference: what the killed run keeps, it wrote itself.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from harness.core.summaries import read_summaries

from . import pipeline_runs as pr

pytestmark = pytest.mark.slow


def _has_step(run: Path, step: int) -> bool:
    try:
        history = json.loads((run / "train" / "history.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return any(h.get("step", 0) >= step and "loss" in h for h in history)


def _manifest_status(run: Path) -> str | None:
    try:
        return json.loads((run / "manifest.json").read_text(encoding="utf-8")).get("status")
    except (OSError, json.JSONDecodeError):
        return None


def _summary(run: Path, tag: str) -> dict:
    try:
        return json.loads((run / "evals" / tag / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def test_killed_at_every_stage_and_resumed_gives_the_same_gate(tmp_path, tiny_model_dir,
                                                               reference_runs):
    assert reference_runs.reference_rc == 1  # the tiny model is BLOCKED: a real verdict
    run = tmp_path / "run"
    env = pr.environment(tmp_path / "cache")
    log = tmp_path / "run.log"
    evals = run / "evals"
    # (name, condition that marks being inside that stage)
    kill_points = [
        ("baseline evaluation (base/medqa done, general in progress)",
         lambda: "medqa" in _summary(run, "base")),
        ("a checkpoint's evaluation (checkpoint-2/medqa done, general in progress)",
         lambda: "medqa" in _summary(run, "checkpoint-2")),
        ("training between checkpoints (step 3 logged, no checkpoint-4)",
         lambda: _has_step(run, 3) and not (run / "checkpoints" / "checkpoint-4").exists()),
        ("the last checkpoint's evaluation (checkpoint-4/medqa done, general in progress)",
         lambda: "medqa" in _summary(run, "checkpoint-4")),
        ("gating/reporting (gate.json written, final manifest not yet)",
         lambda: (run / "gate.json").exists() and _manifest_status(run) != "finished"),
    ]
    killed = []
    base_medqa_stat = None
    for index, (name, condition) in enumerate(kill_points):
        proc = pr.start(pr.command(tiny_model_dir, run, resume=index > 0), env, log)
        assert pr.run_until(proc, condition), (
            f"the run ended (rc {proc.returncode}) before being killed during {name}:\n"
            + log.read_text(errors="replace")[-3000:])
        killed.append(name)
        if index == 0:
            base_medqa_stat = os.stat(evals / "base" / "medqa.records.jsonl")
    # the stage of each kill left its mark, and the last kill left only the manifest
    # written at the start (the environment), not the final one
    assert _manifest_status(run) == "running"

    final = subprocess.run(pr.command(tiny_model_dir, run, resume=True), env=env, check=False,
                           capture_output=True, text=True, timeout=600)
    assert final.returncode == reference_runs.reference_rc, final.stderr[-3000:]

    # a suite finished before a kill is kept as written, not scored again
    after = os.stat(evals / "base" / "medqa.records.jsonl")
    assert (after.st_ino, after.st_mtime_ns) == (base_medqa_stat.st_ino, base_medqa_stat.st_mtime_ns)
    ref = reference_runs.reference
    assert pr.normalised_gate(run) == pr.normalised_gate(ref)
    assert pr.records_by_tag(run) == pr.records_by_tag(ref)
    assert pr.metrics_by_tag(run) == pr.metrics_by_tag(ref)
    # no item lost or doubled: one record per (item, variant) in every file, as many as
    # the (sequential) evaluation says it scored
    for name, text in pr.records_by_tag(run).items():
        keys = [(r["item_id"], r["variant"]) for r in map(json.loads, text.splitlines())]
        tag, suite = name.split("/")[0], name.split("/")[1].removesuffix(".records.jsonl")
        sequential = read_summaries(run / "evals" / tag)[suite].info.extra["sequential"]
        assert len(keys) == len(set(keys)) == sum(sequential["scored"].values()), name
        assert set(sequential["scored"]) == {"selection"}  # nothing chosen: no confirming
    assert not list(run.rglob(".*.tmp"))
    assert len(killed) == len(kill_points)


def test_resume_with_another_config_is_refused_naming_the_keys(tmp_path, tiny_model_dir,
                                                               reference_runs):
    result = subprocess.run(
        pr.command(tiny_model_dir, reference_runs.reference, resume=True,
                   sets=["training.learning_rate=0.5", "evaluation.limit=7"]),
        env=pr.environment(tmp_path / "cache"), capture_output=True, text=True, timeout=300,
        check=False)
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "evaluation.limit" in message and "training.learning_rate" in message
    assert "Traceback" not in result.stderr


def test_resume_of_a_missing_run_directory_is_bad_input(tmp_path, tiny_model_dir):
    result = subprocess.run(pr.command(tiny_model_dir, tmp_path / "nothing", resume=True),
                            env=pr.environment(tmp_path / "cache"), capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 2
    assert "no such run directory" in " ".join(result.stderr.split())
