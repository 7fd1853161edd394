"""The acceptance run on the embedded default: SmolLM2-135M-Instruct, demo data, 30 steps."""

from __future__ import annotations

import json

import pytest

from harness.app.cli import main


@pytest.mark.slow
def test_default_training_lowers_the_loss(tmp_path, capsys):
    run = tmp_path / "smoke"
    assert main(["train", "--run-dir", str(run), "--no-progress", "--set", "training.max_steps=30"]) == 0
    history = json.loads((run / "train" / "history.json").read_text())
    losses = [h["loss"] for h in history if "loss" in h]
    assert len(losses) == 30 and losses[-1] < losses[0]
    data = json.loads((run / "train" / "data.json").read_text())
    assert data["demo"] is True and data["rows_read"] >= 150
    for sub in ("checkpoints/checkpoint-15/adapter_model.safetensors", "adapters/adapter_model.safetensors",
                "merged/config.json", "config.resolved.yaml"):
        assert (run / sub).exists(), sub
