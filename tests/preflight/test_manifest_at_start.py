"""The run's environment is on record before the first checkpoint is judged: a gate
check on the device must see the same device in training as when the run is re-judged."""

from __future__ import annotations

import json

import pytest

from gates.judge import run_device
from harness.app import pipeline
from harness.core.config import MedgateConfig
from harness.core.rundir import RunDir


class _Stop(Exception):
    pass


def test_device_is_known_when_the_first_model_is_evaluated(tmp_path, monkeypatch):
    import torch

    seen = {}

    def evaluate(config, run, tag, **_kwargs):
        seen[tag] = run_device(run)
        seen["manifest"] = json.loads(run.manifest.read_text(encoding="utf-8"))
        raise _Stop  # the test needs nothing past the first evaluation

    monkeypatch.setattr(pipeline, "_evaluate", evaluate)
    config = MedgateConfig.model_validate({"evaluation": {"suites": ["medqa"]}})
    run = RunDir.create(tmp_path / "run")
    with pytest.raises(_Stop):
        pipeline.run_pipeline(config, run)
    assert seen["base"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert seen["manifest"]["environment"]["cuda"] is torch.cuda.is_available()
    assert seen["manifest"]["status"] == "running"
