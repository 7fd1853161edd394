"""Launching the tiny train-and-gate pipeline as a real subprocess, and comparing runs.

A subprocess, not an in-process call, so that a test can SIGKILL it like a crash would,
and so that each run starts as cold as a user's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.core.summaries import read_summaries

# Two checkpoints, two suites of six items scored two at a time (three cache batches per
# suite): every stage of the pipeline exists and the whole run stays within seconds.
TINY_SETS = [
    "evaluation.suites=[medqa,general]", "evaluation.limit=6", "evaluation.batch_size=2",
    "training.max_steps=4", "training.save_steps=2", "training.eval_steps=2",
    "training.logging_steps=1", "training.max_seq_length=256", "dataset.max_samples=16", "dataset.validation_size=0",
    "output.merge_full_weights=false",
]


def command(model_dir: Path, run_dir: Path, *, resume: bool = False,
            sets: list[str] | None = None) -> list[str]:
    argv = [sys.executable, "-m", "harness.app.cli", "train-and-gate", "--run-dir", str(run_dir),
            "--set", f"model.name={model_dir}"]
    for assignment in [*TINY_SETS, *(sets or [])]:
        argv += ["--set", assignment]
    return argv + (["--resume"] if resume else [])


def environment(cache: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "MEDGATE_CACHE": str(cache), "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **extra}
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        if name not in extra:
            env.pop(name, None)
    return env


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    return subprocess.Popen(argv, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            cwd=Path(__file__).resolve().parents[2])


def run_until(proc: subprocess.Popen, condition: Callable[[], bool], *,
              timeout: float = 240.0, poll: float = 0.01) -> bool:
    """SIGKILL `proc` as soon as `condition()` holds; False if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            proc.kill()  # SIGKILL: no handler, no cleanup, like a crash or the OOM killer
            proc.wait()
            return True
        if proc.poll() is not None:
            return False
        time.sleep(poll)
    proc.kill()
    proc.wait()
    raise TimeoutError("the pipeline neither reached the kill point nor ended")


def normalised_gate(run_dir: Path) -> dict[str, Any]:
    """gate.json without what legitimately differs between two runs: time and location."""
    text = (run_dir / "gate.json").read_text(encoding="utf-8").replace(str(run_dir), "<run>")
    gate = json.loads(text)
    gate.pop("created_at", None)
    return gate


def records_by_tag(run_dir: Path) -> dict[str, str]:
    """Every records file of the run, by <tag>/<suite>, with the run's location removed."""
    return {f"{p.parent.name}/{p.name}": p.read_text(encoding="utf-8").replace(str(run_dir), "<run>")
            for p in sorted((run_dir / "evals").glob("*/*.records.jsonl"))}


def metrics_by_tag(run_dir: Path) -> dict[str, Any]:
    """Every summary's metrics and errors (not the info, which holds timings and cache
    counts)."""
    out = {}
    for path in sorted((run_dir / "evals").glob("*/summary.json")):
        out[path.parent.name] = {
            suite: {"metrics": {name: m.to_json() for name, m in entry.metrics.items()},
                    "error": entry.error}
            for suite, entry in read_summaries(path.parent).items()}
    return out
