"""bfloat16 where it is fast, and a warning where it is emulated."""

from __future__ import annotations

import torch

from harness.app.defaults import load_default_config
from harness.core import precision
from harness.core.manifest import environment


def test_embedded_default_scores_and_trains_in_bf16():
    config = load_default_config()
    assert config.model.dtype == "bfloat16" and config.training.bf16 is True


def test_bf16_on_a_cpu_without_bf16_instructions_is_said_with_the_faster_setting(monkeypatch,
                                                                                  capsys):
    monkeypatch.setattr(precision, "cpu_computes_bf16", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(precision, "_warned", set())
    message = precision.emulated_bf16_warning("bfloat16")
    assert message and "model.dtype=float32" in message and "training.bf16=false" in message
    precision.warn_if_emulated("bfloat16")
    precision.warn_if_emulated("bfloat16")
    assert capsys.readouterr().err.count("emulated") == 1  # once per process


def test_no_warning_where_bf16_is_computed_or_not_asked_for(monkeypatch):
    monkeypatch.setattr(precision, "cpu_computes_bf16", lambda: True)
    assert precision.emulated_bf16_warning("bfloat16") is None
    monkeypatch.setattr(precision, "cpu_computes_bf16", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert precision.emulated_bf16_warning("float32") is None


def test_the_manifest_records_whether_the_cpu_computes_bf16():
    assert environment()["cpu_bf16"] is precision.cpu_computes_bf16()


def test_an_adapter_is_computed_in_the_dtype_of_the_weights(tiny_model_dir, tmp_path):
    """bf16 weights get a bf16 adapter (no float32 casts in every adapted layer); float32
    weights keep it in float32, as trained."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from harness.core.models import ModelSpec, load_model

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                    init_lora_weights=False)).save_pretrained(tmp_path / "ad")
    spec = ModelSpec(name="tiny", source=str(tiny_model_dir))
    for dtype, expected in (("bfloat16", torch.bfloat16), ("float32", torch.float32),
                            ("auto", torch.float32)):
        model = load_model(spec, adapter=tmp_path / "ad", dtype=dtype)
        lora = {p.dtype for n, p in model.named_parameters() if "lora_" in n}
        assert lora == {expected}, dtype
