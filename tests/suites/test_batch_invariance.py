"""An item's log-likelihoods do not depend on the other items in its batch.

A sequential gate scores a suite in blocks, an exhaustive one in one pass; `--limit` and
the batch size change which prompts share a batch too. The verdict on a borderline check
must not turn on that, so every item is answered bit for bit the same alone or beside
longer prompts (which pad its row further), in bfloat16, where torch's fused CPU attention
does not hold this.
"""

from __future__ import annotations

import pytest

from harness.core.backends import open_model
from harness.core.cache import ResultCache


@pytest.fixture(scope="module")
def bf16_model_dir(tmp_path_factory, smol_tokenizer):
    """A 2-layer Llama wide enough for the fused attention's padding dependence to show."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(smol_tokenizer), hidden_size=128,
                         intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=1024,
                         tie_word_embeddings=True, pad_token_id=smol_tokenizer.pad_token_id)
    folder = tmp_path_factory.mktemp("bf16-llama")
    LlamaForCausalLM(config).to(torch.bfloat16).save_pretrained(folder)
    smol_tokenizer.save_pretrained(folder)
    return folder


def _contexts() -> list[str]:
    text = "the patient presented with fever cough and a rash after travel"
    words = text.split(" ")
    return [" ".join(words[: 3 + i % len(words)] * (1 + i // 4)) + "\nAnswer:"
            for i in range(12)]


def test_an_item_scores_the_same_alone_and_in_any_batch(bf16_model_dir, tmp_path):
    """On the default (fast) path; lm-eval's own path rounds each log-probability to
    bfloat16, which hides differences of this size on a 2-layer model."""
    requests = [(c, f" {letter}") for c in _contexts() for letter in "AB"]
    alone = []
    for index, request in enumerate(requests):
        handle = open_model(str(bf16_model_dir), dtype="bfloat16", batch_size=8,
                            cache=ResultCache(tmp_path / f"alone-{index}"))
        alone += handle.loglikelihood([request])
    together = open_model(str(bf16_model_dir), dtype="bfloat16", batch_size=8,
                          cache=ResultCache(tmp_path / "together"))
    assert together.loglikelihood(requests) == alone
