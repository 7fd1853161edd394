"""What `train-and-gate` tells a torchrun user to do instead works: a run written by
`medgate train` is scored by `medgate eval` (base and a checkpoint) and judged by
`medgate gate`, without train-and-gate."""

from __future__ import annotations

import json

from harness.app.cli import main


def test_train_then_eval_then_gate_judges_the_checkpoints(tmp_path, tiny_overrides):
    run = tmp_path / "run"
    sets = []
    for item in [*tiny_overrides, "training.max_steps=2", "output.merge_full_weights=false"]:
        sets += ["--set", item]
    assert main(["train", "--run-dir", str(run), "--no-progress", *sets]) == 0
    model = next(s.split("=", 1)[1] for s in tiny_overrides if s.startswith("model.name="))
    scoring = ["--run-dir", str(run), "--model", model, "--suites", "medqa,general",
               "--limit", "3"]
    assert main(["eval", *scoring, "--tag", "base"]) == 0
    checkpoint = run / "checkpoints" / "checkpoint-2"
    assert main(["eval", *scoring, "--tag", "checkpoint-2", "--adapter", str(checkpoint)]) == 0
    assert main(["gate", "--run-dir", str(run)]) in (0, 1)  # a verdict, not bad input or a crash
    gate = json.loads((run / "gate.json").read_text(encoding="utf-8"))
    assert "checkpoint-2" in gate["checkpoints"]
