"""Shared fixtures: a tiny random Llama that uses the default model's tokenizer.

Tests that only need *a* causal LM use `tiny_model_dir` (a few MB, loads in a second);
tests that need the real embedded default use `smollm2_spec` and are marked slow.
No fixture touches the network.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# CI replays the same generated inputs every run, so a red build is reproducible and is
# never a new draw's luck; local runs keep exploring fresh inputs.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def smollm2_spec():
    from harness.core.models import resolve_model

    return resolve_model("smollm2-135m")


@pytest.fixture(scope="session")
def smol_tokenizer(smollm2_spec):
    from harness.core.models import load_tokenizer

    return load_tokenizer(smollm2_spec)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, smol_tokenizer):
    """A 2-layer Llama with SmolLM2's tokenizer and chat template, saved as safetensors."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(smol_tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=smol_tokenizer.bos_token_id,
        eos_token_id=smol_tokenizer.eos_token_id,
        pad_token_id=smol_tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    folder = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(folder)
    smol_tokenizer.save_pretrained(folder)
    return folder
