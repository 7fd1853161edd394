"""A trial the gate's early stopping ends is pruned, and a study without a feasible trial
BLOCKs (exit 1) with each trial's failing checks."""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import POLICY, environment, tune_command

# Whole studies as subprocesses: minutes on two cores.
pytestmark = pytest.mark.slow


def test_early_stopped_trial_is_pruned_and_study_blocks(tmp_path, tiny_model_dir, study_files):
    _, space = study_files
    policy = tmp_path / "impossible.yaml"  # forgetting must be below -1: no model passes
    policy.write_text(POLICY.replace("threshold: 0.5", "threshold: -1.0"), encoding="utf-8")
    study_dir = tmp_path / "study"
    argv = tune_command(tiny_model_dir, policy, space, study_dir, 1,
                        "--set", "gates.early_stop.on_failed=[forgetting]",
                        "--set", "training.max_steps=4")
    done = subprocess.run(argv, check=False, env=environment(tmp_path / "cache"),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 1, done.stderr[-3000:]
    result = json.loads((study_dir / "result.json").read_text(encoding="utf-8"))
    trial = result["trials"][0]
    assert trial["state"] == "PRUNED" and "forgetting" in trial["pruned"]
    assert trial["failing"]["checkpoint-2"]["forgetting"]
    # training stopped at the first checkpoint: the second was never saved
    assert not (study_dir / "trials" / "trial-0000" / "checkpoints" / "checkpoint-4").exists()
    assert result["verdict"] == "BLOCK" and result["best_trial"] is None
    assert any("trial 0" in r and "forgetting" in r for r in result["reasons"])
    assert "BLOCK" in done.stdout
    html = (study_dir / "report" / "study.html").read_text(encoding="utf-8")
    assert "pruned: gate early stopping" in html
