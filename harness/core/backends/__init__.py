"""Model backends: lazily loaded models that answer log-likelihood, rolling log-likelihood
and generation requests, as lm-evaluation-harness's `LM` does, through the result cache.

Public surface: `open_model`, `ModelHandle`, `LoglikelihoodRequest` and
`GenerationSettings`. A backend knows nothing of suites, prompt formats or records.
"""

from __future__ import annotations

from pathlib import Path

from harness.core.backends.base import GenerationSettings, LoglikelihoodRequest, ModelHandle
from harness.core.backends.hf import HFHandle
from harness.core.backends.vllm import VLLMHandle, require_vllm
from harness.core.cache import ResultCache
from harness.core.errors import BadInputError
from harness.core.models import resolve_model

BACKENDS = {"hf": HFHandle, "vllm": VLLMHandle}

__all__ = ["BACKENDS", "GenerationSettings", "LoglikelihoodRequest", "ModelHandle", "open_model"]


def open_model(model: str, *, adapter: str | Path | None = None, backend: str = "hf",
               tag: str = "base", dtype: str = "auto", token: str | None = None,
               batch_size: int = 8, generation_batch_size: int | None = None,
               cache: ResultCache | None = None) -> ModelHandle:
    """A handle for `model` on `backend`; nothing is loaded until an answer is missing."""
    if backend not in BACKENDS:
        raise BadInputError(f"unknown backend '{backend}' (known: {', '.join(BACKENDS)})")
    spec = resolve_model(model)
    if backend == "vllm":
        require_vllm()
    return BACKENDS[backend](spec, adapter=adapter, tag=tag, dtype=dtype, token=token,
                             batch_size=batch_size,
                             generation_batch_size=generation_batch_size, cache=cache)
