"""Generation asks for the last position's logits in a form torch projects in one product.

With transformers' `logits_to_keep=1`, the prefill's last hidden states are a
non-contiguous view; with a frozen output projection (a PEFT model's) torch broadcasts
the vocabulary projection over the batch instead of folding the rows into one matrix,
which on the default model cost 0.46 GB and most of a second per batch. The tokens must
be the same either way.
"""

from __future__ import annotations

import pytest

from harness.core.backends import hf, open_model
from harness.core.backends.base import GenerationSettings
from harness.core.cache import ResultCache

PROMPTS = ["A patient with chest pain should", "Paracetamol overdose is treated with",
           "The first step in anaphylaxis is", "Fever in a returning traveller"]


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir, tmp_path_factory):
    """A LoRA adapter with non-zero weights on the tiny model."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder = tmp_path_factory.mktemp("lora")
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                    init_lora_weights=False)).save_pretrained(folder)
    return folder


def test_the_projection_reads_contiguous_rows_and_the_tokens_do_not_change(
        tiny_model_dir, adapter_dir, tmp_path, monkeypatch):
    handle = open_model(str(tiny_model_dir), adapter=str(adapter_dir), batch_size=4,
                        cache=ResultCache(tmp_path / "cache"))
    handle.use_cache = False
    head = handle.model.get_base_model().lm_head
    assert not head.weight.requires_grad  # the case torch does not fold
    seen = []
    hook = head.register_forward_pre_hook(lambda _m, args: seen.append(args[0].is_contiguous()))
    settings = GenerationSettings(max_new_tokens=4)
    try:
        indexed = handle.generate(PROMPTS, settings)
        assert seen and all(seen)
        monkeypatch.setattr(hf, "last_position_kwargs", lambda _model: {})
        seen.clear()
        sliced = handle.generate(PROMPTS, settings)
    finally:
        hook.remove()
    assert not seen[0]  # transformers' own slice: what the index replaces
    assert indexed == sliced


def test_a_model_without_logits_to_keep_gets_no_keyword():
    import torch

    class Plain(torch.nn.Module):
        def forward(self, input_ids, attention_mask=None):
            return input_ids

    assert hf.last_position_kwargs(Plain()) == {}
