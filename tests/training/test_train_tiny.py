"""Training on the tiny random Llama: every method runs, and the run directory is complete."""

from __future__ import annotations

import json

import pytest
import torch

from finetune.trainer import train
from harness.core.config import load_config
from harness.core.errors import BadInputError
from harness.core.models import load_model, resolve_model
from harness.core.rundir import RunDir


def run_train(tmp_path, overrides, extra=(), **kwargs):
    config = load_config(None, [*overrides, *extra])
    run = RunDir.create(tmp_path / "run")
    return run, train(config, run, progress=False, **kwargs)


def test_lora_run_directory_and_merged_logits(tmp_path, tiny_overrides, tiny_model_dir):
    calls = []
    run, result = run_train(tmp_path, tiny_overrides, on_checkpoint=lambda s, p: calls.append((s, p)))
    assert result.final_step == 4 and not result.stopped_early
    assert [s for s, _ in result.checkpoints] == [2, 4]
    assert [s for s, _ in calls] == [2, 4]
    for _, folder in calls:
        assert (folder / "adapter_config.json").exists() and (folder / "adapter_model.safetensors").exists()
    history = json.loads(run.history.read_text())
    assert [h["step"] for h in history if "loss" in h] == [1, 2, 3, 4]
    assert all(h["tokens_per_s"] is None or h["tokens_per_s"] > 0 for h in history if "loss" in h)
    assert [h["step"] for h in history if "eval_loss" in h] == [2, 4]
    assert run.train_log.read_text().count("loss=") >= 4
    assert run.config.exists() and (run.train_dir / "data.json").exists()
    assert result.adapter_dir == run.adapters_dir and (run.adapters_dir / "adapter_config.json").exists()
    assert result.merged_dir == run.merged_dir
    assert list(run.merged_dir.glob("*.safetensors"))

    from transformers import AutoModelForCausalLM

    spec = resolve_model(str(tiny_model_dir))
    adapted = load_model(spec, adapter=run.adapters_dir)
    merged = AutoModelForCausalLM.from_pretrained(run.merged_dir, dtype=torch.float32).eval()
    base = load_model(spec)
    ids = torch.tensor([[1, 400, 500, 600, 700, 800, 900, 1000]])
    with torch.no_grad():
        a, m, b = adapted(ids).logits, merged(ids).logits, base(ids).logits
    assert torch.allclose(a, m, atol=1e-4), (a - m).abs().max()
    assert not torch.allclose(a, b, atol=1e-4)  # training changed something


def test_checkpoint_hook_can_stop_training_and_resume_continues(tmp_path, tiny_overrides):
    run, result = run_train(tmp_path, tiny_overrides, on_checkpoint=lambda step, path: step >= 2)
    assert result.stopped_early and result.final_step == 2 and result.stop_reason == "checkpoint hook"
    config = load_config(None, tiny_overrides)
    resumed = train(config, run, resume=True, progress=False)
    assert resumed.final_step == 4
    history = json.loads(run.history.read_text())
    assert [h["step"] for h in history if "loss" in h] == [1, 2, 3, 4]


def test_early_stopping_restores_best_checkpoint(tmp_path, tiny_overrides):
    # a learning rate this high makes validation loss rise after the first evaluation
    run, result = run_train(tmp_path, tiny_overrides,
                            ["training.max_steps=12", "training.learning_rate=3.0", "training.lr_scheduler=constant",
                             "training.warmup_ratio=0", "training.early_stopping_patience=1",
                             "training.max_grad_norm=100"])
    evals = [(h["step"], h["eval_loss"]) for h in result.history if "eval_loss" in h]
    best_step = min(evals, key=lambda e: e[1])[0]
    assert result.best_checkpoint is not None and result.best_checkpoint.name == f"checkpoint-{best_step}"
    assert result.stopped_early == (result.final_step < 12)
    from safetensors.torch import load_file

    final = load_file(run.adapters_dir / "adapter_model.safetensors")
    best = load_file(result.best_checkpoint / "adapter_model.safetensors")
    assert final.keys() == best.keys() and all(torch.equal(final[k], best[k]) for k in final)


def test_qlora_4bit_trains_on_cpu(tmp_path, tiny_overrides):
    run, result = run_train(tmp_path, tiny_overrides, ["peft.method=qlora", "peft.quantization=4bit",
                                                       "peft.quant_type=nf4", "peft.double_quant=true"])
    assert result.final_step == 4
    quant = result.model_info["quantization"]
    assert (quant["bits"], quant["quant_type"], quant["double_quant"]) == (4, "nf4", True)
    assert quant["quantized_modules"] > 0  # bitsandbytes Linear4bit layers, really
    assert all(h["loss"] == h["loss"] for h in result.history if "loss" in h)  # no NaN
    assert (run.adapters_dir / "adapter_model.safetensors").exists()
    assert result.merged_dir is not None  # merged into the full-precision base


def test_prefix_tuning_trains_on_cpu(tmp_path, tiny_overrides):
    run, result = run_train(tmp_path, tiny_overrides, ["peft.method=prefix", "peft.num_virtual_tokens=8"])
    assert result.final_step == 4
    cfg = json.loads((run.adapters_dir / "adapter_config.json").read_text())
    assert cfg["peft_type"] == "PREFIX_TUNING"
    assert result.merged_dir is None  # prefixes cannot be folded into the weights
    model = load_model(resolve_model(tiny_overrides[0].split("=", 1)[1]), adapter=result.checkpoints[-1][1])
    with torch.no_grad():
        assert model(torch.tensor([[1, 2, 3]])).logits.shape[1] == 3


def test_ia3_and_full_and_packing(tmp_path, tiny_overrides):
    _, ia3 = run_train(tmp_path / "ia3", tiny_overrides, ["peft.method=ia3", "training.max_steps=2"])
    assert ia3.final_step == 2 and ia3.merged_dir is not None
    run, full = run_train(tmp_path / "full", tiny_overrides, ["peft.method=full", "training.max_steps=2",
                                                              "training.learning_rate=1e-4"])
    assert full.adapter_dir is None and (run.merged_dir / "config.json").exists()
    assert full.model_info["trainable_fraction"] == 1.0
    _, packed = run_train(tmp_path / "packed", tiny_overrides, ["training.packing=true", "training.max_steps=2"])
    assert packed.final_step == 2


def test_incompatible_settings_are_refused(tmp_path, tiny_overrides):
    with pytest.raises(BadInputError, match="packing"):
        run_train(tmp_path, tiny_overrides, ["peft.method=prefix", "training.packing=true"])
    with pytest.raises(BadInputError, match="multiple of training.eval_steps"):
        run_train(tmp_path, tiny_overrides, ["training.early_stopping_patience=2", "training.save_steps=3"])


@pytest.mark.parametrize("extra", [
    ["peft.method=qlora", "peft.quantization=8bit"],
    ["peft.method=qlora", "training.gradient_checkpointing=true"],
    ["training.gradient_checkpointing=true"],
])
def test_more_settings_train(tmp_path, tiny_overrides, extra):
    _, result = run_train(tmp_path, tiny_overrides, [*extra, "training.max_steps=2"])
    assert result.final_step == 2
    if "peft.quantization=8bit" in extra:
        assert result.model_info["quantization"]["bits"] == 8
        assert result.model_info["quantization"]["quantized_modules"] > 0


def test_validation_split_from_a_file(tmp_path, tiny_overrides):
    from .conftest import instruction_rows, write_jsonl

    val = write_jsonl(tmp_path / "val.jsonl", instruction_rows(3))
    _, result = run_train(tmp_path, tiny_overrides, [f"dataset.validation_split={val}", "training.max_steps=2"])
    assert result.data_provenance["validation_rows_kept"] == 3 and result.data_provenance["rows_kept"] == 24
    assert any("eval_loss" in h for h in result.history)


def test_training_into_a_used_run_directory_needs_resume(tmp_path, tiny_overrides):
    run, _ = run_train(tmp_path, tiny_overrides, ["training.max_steps=2"])
    with pytest.raises(BadInputError, match="--resume"):
        train(load_config(None, tiny_overrides), run, progress=False)
