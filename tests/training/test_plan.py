from __future__ import annotations

import pytest

from finetune.plan import ModelShape, estimate, lora_params, params_from_name, recommend

GB = 1e9 / 1024**3  # GiB per 1e9 bytes


def shape_7b() -> ModelShape:
    return ModelShape(params=7_000_000_000, hidden=4096, layers=32, vocab=32000, intermediate=11008,
                      kv_dim=4096, tied_embeddings=False, source="test")


def test_params_from_name():
    assert params_from_name("meta-llama/Llama-3.1-8B-Instruct") == 8e9
    assert params_from_name("HuggingFaceTB/SmolLM2-135M-Instruct") == 135e6
    assert params_from_name("mistralai/Mistral-7B-Instruct-v0.2") == 7e9
    assert params_from_name("Qwen2.5-0.5B") == 0.5e9
    assert params_from_name("gpt2") is None


def test_full_finetuning_follows_the_memory_layout():
    # x B parameters: weights 2x GB, gradients 2x GB, optimizer up to 12x GB
    est = estimate(shape_7b(), method="full", micro_batch=1, seq_len=512, gradient_checkpointing=True)
    assert est.weights_gib == pytest.approx(14 * GB)
    assert est.gradients_gib == pytest.approx(14 * GB)
    assert est.optimizer_gib == pytest.approx(84 * GB)


def test_lora_and_qlora_shrink_what_they_should():
    s = shape_7b()
    lora = estimate(s, method="lora", micro_batch=4, seq_len=1024, gradient_checkpointing=True, r=8)
    qlora = estimate(s, method="qlora", micro_batch=4, seq_len=1024, gradient_checkpointing=True, r=8)
    assert lora.trainable_params == lora_params(s, 8, ["q_proj", "k_proj", "v_proj", "o_proj"])
    assert lora.trainable_params == 32 * 4 * 8 * (4096 + 4096)
    assert qlora.weights_gib < lora.weights_gib / 3
    assert qlora.activations_gib == lora.activations_gib
    plain = estimate(s, method="lora", micro_batch=4, seq_len=1024, gradient_checkpointing=False, r=8)
    assert lora.activations_gib < plain.activations_gib / 5


def test_recommendation_matches_the_lecture_table():
    # lecture: "24GB GPU: 7B models with QLoRA, batch=4"
    plan = recommend(shape_7b(), gpu_gib=24, method="qlora", seq_len=2048)
    assert plan["fits"] and plan["estimate"].micro_batch >= 4
    # full fine-tuning of 7B does not fit 24 GB: falls back to a PEFT method that does
    full = recommend(shape_7b(), gpu_gib=24, method="full", seq_len=2048)
    assert full["fits"] and full["estimate"].method in ("lora", "qlora") and full["reasons"]
    tiny_gpu = recommend(shape_7b(), gpu_gib=2, method="qlora", seq_len=2048)
    assert not tiny_gpu["fits"] and "nothing fits" in tiny_gpu["reasons"][0]
