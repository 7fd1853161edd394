"""DPO on the demo preference set through `medgate train-and-gate`: checkpoints gated like
SFT ones, a model card that names the method, the reference the base with the adapter off."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from mlflow import MlflowClient

from .conftest import environment, tiny_sets

# Whole runs as subprocesses: minutes on two cores.
pytestmark = pytest.mark.slow


def _dpo_run(tmp_path, model: str, policy) -> tuple[subprocess.CompletedProcess, object]:
    run_dir = tmp_path / "run"
    argv = [sys.executable, "-m", "harness.app.cli", "train-and-gate", "--run-dir", str(run_dir),
            *tiny_sets(model, policy), "--set", "training.method=dpo",
            "--set", "training.max_steps=4", "--set", "training.learning_rate=0.001",
            "--set", "tracking.enabled=true"]  # no URI: a local ./mlruns store
    done = subprocess.run(argv, check=False, env=environment(tmp_path / "cache"),
                          capture_output=True, cwd=tmp_path, text=True, timeout=1800)
    return done, run_dir


def _check(done, run_dir) -> None:
    """Gated checkpoints, the method on the card and in MLflow's local store."""
    assert done.returncode in (0, 1), done.stderr[-3000:]
    gate = json.loads((run_dir / "gate.json").read_text(encoding="utf-8"))
    assert sorted(gate["checkpoints"]) == ["checkpoint-2", "checkpoint-4"]
    assert all(v["checks"] for v in gate["checkpoints"].values())
    result = json.loads((run_dir / "train" / "result.json").read_text(encoding="utf-8"))
    assert result["training_method"] == "dpo"
    data = json.loads((run_dir / "train" / "data.json").read_text(encoding="utf-8"))
    assert data["demo"] is True and data["format"] == "preference"
    # At the first step the adapter is zero, so policy and reference (the base with the
    # adapter disabled) are the same model: the DPO loss is exactly ln 2.
    history = json.loads((run_dir / "train" / "history.json").read_text(encoding="utf-8"))
    assert history[0]["loss"] == pytest.approx(math.log(2), abs=1e-4)
    card = (run_dir / "report" / "model_card.html").read_text(encoding="utf-8")
    assert "preference tuning: DPO" in card
    adapter = json.loads((run_dir / "checkpoints" / "checkpoint-2" / "adapter_config.json")
                         .read_text(encoding="utf-8"))
    assert adapter["peft_type"] == "LORA"
    assert not (run_dir / "checkpoints" / "checkpoint-2" / "ref").exists()  # no second adapter

    client = MlflowClient(tracking_uri=f"sqlite:///{run_dir.parent / 'mlruns' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("medgate").experiment_id])
    assert len(runs) == 1
    assert runs[0].data.tags["medgate.training_method"] == "dpo"
    assert runs[0].data.tags["medgate.verdict"] == gate["verdict"]
    assert runs[0].data.params["training.method"] == "dpo"


def test_dpo_on_tiny_model(tmp_path, tiny_model_dir, study_files):
    policy, _ = study_files
    _check(*_dpo_run(tmp_path, str(tiny_model_dir), policy))


def test_dpo_on_default_model(tmp_path, study_files):
    policy, _ = study_files
    _check(*_dpo_run(tmp_path, "smollm2-135m", policy))
