"""A GGUF model is loaded from its dequantized copy: the same weights, bit for bit, and a
tokenizer of the same identity as transformers' own GGUF load; the copy is made once."""

from __future__ import annotations

import pytest
import torch

from harness.core.models import (
    _from_pretrained,
    _tokenizer,
    dequantized_copy,
    fingerprint,
    load_model,
    load_tokenizer,
    tokenizer_identity,
)

pytestmark = pytest.mark.slow  # the real embedded default, parsed from its GGUF file


def test_the_copy_is_the_gguf_model(smollm2_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path))
    direct = _from_pretrained(smollm2_spec, None, {"dtype": torch.float32})
    loaded = load_model(smollm2_spec)
    copy = dequantized_copy(smollm2_spec)
    assert copy.gguf_file is None and copy.source.startswith(str(tmp_path / "dequantized"))
    ours, theirs = loaded.state_dict(), direct.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert tokenizer_identity(load_tokenizer(smollm2_spec)) == \
        tokenizer_identity(_tokenizer(smollm2_spec, None))
    # made once: a second load reads the same folder, and the spec still names the GGUF
    stamp = (tmp_path / "dequantized").stat().st_mtime_ns
    assert dequantized_copy(smollm2_spec) == copy
    assert (tmp_path / "dequantized").stat().st_mtime_ns == stamp
    assert fingerprint(smollm2_spec) != fingerprint(copy)  # records name the GGUF's bytes
