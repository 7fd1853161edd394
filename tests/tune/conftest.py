"""Fixtures of the `medgate tune` tests: a small study on the tiny model, a real PostgreSQL.

A trial is the whole train-and-gate path on the tiny random Llama (two training steps,
two suites of twelve items), so a study of a few trials runs in about a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .postgres_server import find_bin, postgres_server

ROOT = Path(__file__).resolve().parents[2]

# A policy the tiny model can pass: forgetting on general knowledge judged on the point
# estimate (screened), with few items allowed. The split stays on: half the items choose.
POLICY = """\
name: tune-test
description: forgetting only, screened, for the tune tests on a tiny model
confidence: 0.95
n_boot: 200
seed: 0
min_n: 1
selection: {rule: best_primary, suite: medqa, metric: accuracy, confirm_fraction: 0.5}
checks:
  - {name: forgetting, suite: general, metric: accuracy, judge: delta_vs_base, bound: point,
     screen: true, op: "<=", threshold: 0.5}
"""

SPACE = """\
training.learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}
peft.r: {choices: [2, 4]}
seed: 0
"""


def tiny_sets(model_dir: Path, policy: Path) -> list[str]:
    sets = [f"model.name={model_dir}", "evaluation.suites=[medqa,general]",
            "evaluation.limit=12", "evaluation.batch_size=4", "training.max_steps=2",
            "training.save_steps=2", "training.max_seq_length=256", "dataset.max_samples=8",
            "dataset.validation_size=0", "output.merge_full_weights=false",
            f"gates.policy={policy}"]
    return [arg for s in sets for arg in ("--set", s)]


@pytest.fixture
def study_files(tmp_path) -> tuple[Path, Path]:
    policy, space = tmp_path / "policy.yaml", tmp_path / "space.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    space.write_text(SPACE, encoding="utf-8")
    return policy, space


def tune_command(model_dir: Path, policy: Path, space: Path, study_dir: Path, trials: int,
                 *extra: str) -> list[str]:
    return [sys.executable, "-m", "harness.app.cli", "tune", "--space", str(space),
            "--trials", str(trials), "--study-dir", str(study_dir),
            *tiny_sets(model_dir, policy), *extra]


def environment(cache: Path) -> dict[str, str]:
    return {**os.environ, "MEDGATE_CACHE": str(cache), "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
            "PYTHONPATH": str(ROOT)}


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(argv, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            cwd=ROOT)


@pytest.fixture
def postgres_url():
    """A running PostgreSQL server's URL; missing binaries fail under CI, else skip."""
    if find_bin() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL binaries missing under CI (make setup-test installs them)")
        pytest.skip("PostgreSQL binaries not installed (make setup-test installs them)")
    with postgres_server() as server:
        yield server.url
