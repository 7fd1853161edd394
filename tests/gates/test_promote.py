"""Promotion copies the selected checkpoint with lineage bound to gate.json's hash."""

from __future__ import annotations

import hashlib
import json

import pytest

from gates.judge import judge_run, write_gate
from gates.policy import load_policy
from gates.promote import promote
from harness.core.errors import BadInputError


def add_checkpoint_files(run, tag="checkpoint-10", merged=True):
    folder = run.checkpoints_dir / tag
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    (folder / "optimizer.pt").write_bytes(b"optimizer state")
    if merged:
        (folder / "merged").mkdir()
        (folder / "merged" / "model.safetensors").write_bytes(b"merged weights")


def test_promote_with_lineage(make_run):
    run = make_run()
    add_checkpoint_files(run)
    result = judge_run(run, load_policy("default"))
    write_gate(run, result)
    lineage = {"base_fingerprint": "abc", "data": {"train.jsonl": "f00"},
               "config": {"model": {"name": "smollm2-135m", "hf_token": "hf_secretsecretsecret1234"}}}
    out = promote(run, result.selected, result, lineage=lineage)
    assert (out / "adapter" / "adapter_model.safetensors").read_bytes() == b"weights"
    assert not (out / "adapter" / "optimizer.pt").exists()
    assert (out / "merged" / "model.safetensors").read_bytes() == b"merged weights"
    record = json.loads((out / "lineage.json").read_text())
    assert record["gate"]["sha256"] == hashlib.sha256(run.gate.read_bytes()).hexdigest()
    assert record["base_fingerprint"] == "abc" and record["data"] == {"train.jsonl": "f00"}
    assert record["promoted_tag"] == "checkpoint-10"
    assert "hf_token" not in json.dumps(record) and "hf_secret" not in json.dumps(record)


def test_no_merged_and_no_base_is_recorded(make_run):
    run = make_run()
    add_checkpoint_files(run, merged=False)
    result = judge_run(run, load_policy("default"))
    write_gate(run, result)
    out = promote(run, "checkpoint-10", result, lineage={})
    record = json.loads((out / "lineage.json").read_text())
    assert record["merged"]["how"].startswith("not merged") and record["merged"]["files"] is None


def test_refuses_block_and_other_tags(make_run):
    run = make_run(drop={"general": 20})
    add_checkpoint_files(run)
    result = judge_run(run, load_policy("default"))
    write_gate(run, result)
    with pytest.raises(BadInputError, match="refusing"):
        promote(run, "checkpoint-10", result, lineage={})
    assert not run.promoted_dir.exists()


def test_refuses_without_gate_json(make_run):
    run = make_run()
    add_checkpoint_files(run)
    result = judge_run(run, load_policy("default"))
    with pytest.raises(BadInputError, match="gate.json"):
        promote(run, "checkpoint-10", result, lineage={})


def test_promote_merges_a_real_lora_adapter(make_run, tiny_model_dir):
    """No merged/ for the checkpoint: promotion folds the adapter into the base weights."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    run = make_run()
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                                 init_lora_weights=False))
    peft_model.save_pretrained(run.checkpoints_dir / "checkpoint-10")
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        expected = peft_model(ids).logits
    result = judge_run(run, load_policy("default"))
    write_gate(run, result)
    out = promote(run, "checkpoint-10", result, lineage={
        "base_model": {"name": "tiny", "source": str(tiny_model_dir)}, "base_fingerprint": "x"})
    record = json.loads((out / "lineage.json").read_text())
    assert record["merged"]["how"].startswith("merged from the adapter")
    merged = AutoModelForCausalLM.from_pretrained(out / "merged")
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, expected, atol=1e-4)


def add_full_checkpoint(run, tag="checkpoint-10"):
    """What the Trainer saves for a full fine-tune: the whole model and resume state."""
    folder = run.checkpoints_dir / tag
    folder.mkdir(parents=True)
    model_files = {"config.json": b'{"model_type": "llama"}', "model.safetensors": b"full weights",
                   "generation_config.json": b"{}", "tokenizer.json": b"{}",
                   "tokenizer_config.json": b"{}"}
    state = {"optimizer.pt": b"o", "scheduler.pt": b"s", "rng_state.pth": b"r",
             "rng_state_1.pth": b"r1", "trainer_state.json": b"{}", "training_args.bin": b"a"}
    for name, data in {**model_files, **state}.items():
        (folder / name).write_bytes(data)
    return model_files


def test_promote_a_full_checkpoint_copies_its_weights_into_merged(make_run):
    run = make_run()
    model_files = add_full_checkpoint(run)
    result = judge_run(run, load_policy("default"))
    write_gate(run, result)
    lineage = {"config": {"peft": {"method": "full"}}, "fine_tune": "full fine-tune"}
    out = promote(run, "checkpoint-10", result, lineage=lineage)
    assert not (out / "adapter").exists()
    assert {p.name for p in (out / "merged").iterdir()} == set(model_files)
    assert (out / "merged" / "model.safetensors").read_bytes() == b"full weights"
    record = json.loads((out / "lineage.json").read_text())
    assert record["fine_tune"] == "full fine-tune" and record["adapter"] is None
    assert "full fine-tune" in record["merged"]["how"]
    assert set(record["merged"]["files"]) == set(model_files)


def test_promote_refuses_a_checkpoint_that_is_not_what_the_run_trained(make_run):
    run = make_run()
    add_full_checkpoint(run)
    result = judge_run(run, load_policy("default"))
    write_gate(run, result)
    with pytest.raises(BadInputError, match="peft.method is lora"):
        promote(run, "checkpoint-10", result, lineage={"config": {"peft": {"method": "lora"}}})
    assert not run.promoted_dir.exists()
