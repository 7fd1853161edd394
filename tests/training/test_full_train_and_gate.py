"""`peft.method: full` through train-and-gate: each checkpoint is evaluated as the whole
model it is (not as an adapter on the base), and promotion puts its weights, without the
training state, in promoted/merged/."""

from __future__ import annotations

import json

import pytest
import yaml

from harness.app.cli import main
from harness.core.backends import open_model
from harness.core.errors import BadInputError
from harness.core.models import fingerprint, resolve_model
from harness.core.summaries import read_summaries


def _policy(path):
    """Judges only a check every evaluated model passes, so the verdict is PROMOTE."""
    # The share of the modal answer is at most 1 for any model: a tiny random model
    # answers every item alike, and a skill metric on such answers is no evidence at all.
    check = {"name": "medqa_measured", "suite": "medqa", "metric": "answer_spread",
             "judge": "point", "screen": True, "op": "<=", "threshold": 1.0, "min_n": 1}
    path.write_text(yaml.safe_dump({
        "name": "full-fine-tune-test", "min_n": 1,
        "selection": {"rule": "best_primary", "suite": "medqa", "metric": "accuracy"},
        "checks": [check]}), encoding="utf-8")
    return path


def test_full_fine_tune_is_evaluated_as_a_model_and_promoted(tmp_path, tiny_overrides,
                                                             monkeypatch):
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    sets = [*tiny_overrides, "peft.method=full", "training.max_steps=2",
            "dataset.validation_size=0", "evaluation.suites=[medqa]", "evaluation.limit=3",
            "evaluation.batch_size=3", f"gates.policy={_policy(tmp_path / 'policy.yaml')}"]
    argv = ["train-and-gate", "--run-dir", str(run)]
    for item in sets:
        argv += ["--set", item]
    assert main(argv) == 0  # PROMOTE

    gate = json.loads((run / "gate.json").read_text(encoding="utf-8"))
    assert gate["verdict"] == "PROMOTE" and gate["selected"] == "checkpoint-2"
    info = read_summaries(run / "evals" / "checkpoint-2")["medqa"].info
    assert info.model == str(run / "checkpoints" / "checkpoint-2") and info.adapter is None

    promoted = run / "promoted"
    assert not (promoted / "adapter").exists()
    names = {p.name for p in (promoted / "merged").iterdir()}
    assert "model.safetensors" in names and "config.json" in names
    assert not [n for n in names if n.startswith(("optimizer", "scheduler", "rng_state",
                                                  "trainer_state", "training_args"))]
    lineage = json.loads((promoted / "lineage.json").read_text(encoding="utf-8"))
    assert lineage["fine_tune"] == "full fine-tune" and lineage["adapter"] is None
    AutoModelForCausalLM.from_pretrained(promoted / "merged")  # a model that loads


def _full_folder(path):
    path.mkdir()
    for name, data in {"config.json": b"{}", "model.safetensors": b"weights",
                       "rng_state.pth": b"r0", "training_args.bin": b"a0",
                       "optimizer.pt": b"o0"}.items():
        (path / name).write_bytes(data)
    return path


def test_fingerprint_of_a_full_checkpoint_is_its_weights_not_its_training_state(tmp_path):
    folder = _full_folder(tmp_path / "checkpoint-2")
    before = fingerprint(resolve_model(str(folder)))
    for name in ("rng_state.pth", "training_args.bin", "optimizer.pt"):
        (folder / name).write_bytes(b"another state")
    (folder / "rng_state_1.pth").write_bytes(b"rank 1")
    assert fingerprint(resolve_model(str(folder))) == before
    (folder / "model.safetensors").write_bytes(b"other weights")
    assert fingerprint(resolve_model(str(folder))) != before


def test_a_full_checkpoint_given_as_adapter_is_told_to_be_the_model(tmp_path, tiny_model_dir):
    folder = _full_folder(tmp_path / "checkpoint-2")
    with pytest.raises(BadInputError, match="--model"):
        open_model(str(tiny_model_dir), adapter=folder)
