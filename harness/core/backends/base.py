"""The model handle: a backend that answers requests, whatever runs the model.

Like lm-evaluation-harness's `LM`, a handle answers three kinds of request and knows
nothing of suites, prompt formats, items or records:

- `loglikelihood([(context, continuation), ...])`: the summed log-probability of each
  continuation after its context;
- `loglikelihood_rolling([text, ...])`: (log-likelihood, tokens) of whole texts;
- `generate([prompt, ...], GenerationSettings(...))`: greedy completions, and
  `timed_generate` for one uncached completion and its seconds (latency).

Every answer goes through the result cache, keyed by the model's identity (weight
fingerprint, backend, dtype, tokenizer) and the request (for a generation, every
setting). A handle loads nothing until an answer is missing from the cache, so a fully
cached re-run loads no model; answers are stored batch by batch, so the cache is also
the journal of a run killed mid-suite. Backends differ only in how they load the model
and compute answers (`_loglikelihood`, `_loglikelihood_rolling`, `_generate`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal, NamedTuple

import jinja2

from harness.core.backends import lmeval_bridge as bridge
from harness.core.cache import ResultCache, remembered, remembered_fingerprint, request_key
from harness.core.errors import BadInputError
from harness.core.models import (
    ModelSpec,
    load_tokenizer,
    not_an_adapter,
    tokenizer_files,
    tokenizer_identity,
)


class LoglikelihoodRequest(NamedTuple):
    """Score `continuation` after `context` (lm-eval's loglikelihood request)."""

    context: str
    continuation: str


@dataclass(frozen=True)
class GenerationSettings:
    """How a prompt is completed. Every field is part of the cached answer's key, so a new
    setting (a stop sequence, sampling) is a new field here, never a silent cache hit."""

    max_new_tokens: int
    chat_template: bool = True  # wrap the prompt as a user turn in the model's chat template
    decoding: Literal["greedy"] = "greedy"

    def __post_init__(self) -> None:
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise BadInputError(f"max_new_tokens must be a positive integer, got "
                                f"{self.max_new_tokens!r}")

    def key(self) -> dict[str, Any]:
        return asdict(self)


class ModelHandle:
    """A model to evaluate: lazy weights, cached answers to log-likelihood and generation
    requests."""

    backend: str = "hf"

    def __init__(self, spec: ModelSpec, *, adapter: str | Path | None = None, tag: str = "base",
                 dtype: str = "auto", token: str | None = None, batch_size: int = 8,
                 generation_batch_size: int | None = None,
                 cache: ResultCache | None = None) -> None:
        self.spec = spec
        self.adapter = Path(adapter) if adapter is not None else None
        if self.adapter is not None and not (self.adapter / "adapter_config.json").exists():
            raise BadInputError(not_an_adapter(self.adapter), where=str(self.adapter))
        self.tag = tag
        self.dtype = dtype
        self.batch_size = batch_size
        self.generation_batch_size = generation_batch_size or batch_size
        self.cache = cache if cache is not None else ResultCache()
        self.use_cache = True
        # opt-in: the hf backend answers log-likelihoods without lm-eval's LM where its
        # own forward passes are proven equal (tests/suites/test_suite_lmeval_equality.py)
        self.fast_path = False
        self._token = token
        self._fingerprint: str | None = None
        self._tokenizer_id: str | None = None
        self._tokenizer = None
        self._model = None
        self._lm = None
        # called as progress(done, total) after each batch a model call answers (and once
        # with what the cache answered): the evaluator's progress bar
        self.progress: Callable[[int, int], None] | None = None
        # what this handle actually did, in requests; tests and benchmarks read these
        self.stats = {"loads": 0, "forward_calls": 0, "requests_scored": 0, "cache_hits": 0}

    # --- identity -------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = remembered_fingerprint(self.spec, self.adapter, self.cache)
        return self._fingerprint

    @property
    def resolved_dtype(self) -> str:
        """The dtype the weights are computed in, as the backend resolves `dtype`."""
        return self.dtype

    @property
    def tokenizer_id(self) -> str:
        """The tokenizer's identity (vocabulary, rules, chat template), remembered by its
        files' stat identity so a cached re-run need not load it."""
        if self._tokenizer_id is None:
            self._tokenizer_id = remembered(
                f"tokenizer:{_transformers_version()}", tokenizer_files(self.spec),
                lambda: tokenizer_identity(self.tokenizer), self.cache)
        return self._tokenizer_id

    @property
    def identity(self) -> list[str]:
        """What, besides the request, determines an answer: the first part of every key."""
        return [self.fingerprint, self.backend, self.resolved_dtype, self.tokenizer_id]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def device(self) -> str:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def describe(self) -> dict[str, Any]:
        return {"model": self.spec.describe(), "adapter": str(self.adapter) if self.adapter else None,
                "fingerprint": self.fingerprint, "backend": self.backend, "tag": self.tag,
                "dtype": self.resolved_dtype}

    # --- lazy loading (backends implement) --------------------------------------------
    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.spec, token=self._token)
        return self._tokenizer

    def lm(self) -> Any:
        """The lm-eval LM wrapping this model (loads it on first use)."""
        raise NotImplementedError

    def apply_chat_template(self, chat_history: list[dict[str, str]],
                            add_generation_prompt: bool = True) -> str:
        """The chat as the model's template renders it, as lm-eval's HFLM renders it (a
        suite hands this to lm-eval's task machinery to build chat prompts)."""
        kwargs = {"tokenize": False, "add_generation_prompt": add_generation_prompt,
                  "continue_final_message": not add_generation_prompt}
        try:
            return self.tokenizer.apply_chat_template(chat_history, **kwargs)
        except jinja2.exceptions.TemplateError:  # lm-eval drops the system turn and retries
            chat_history = [m for m in chat_history if m["role"] != "system"]
            return self.tokenizer.apply_chat_template(chat_history, **kwargs)

    def _loglikelihood(self, requests: list[LoglikelihoodRequest]) -> list[float]:
        return bridge.loglikelihood(self.lm(), requests)

    def _loglikelihood_rolling(self, texts: list[str]) -> list[tuple[float, int]]:
        return bridge.loglikelihood_rolling(self.lm(), texts)

    def _generate(self, prompts: list[str], settings: GenerationSettings) -> list[str]:
        raise NotImplementedError

    # --- requests ---------------------------------------------------------------------
    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[float]:
        """Summed log-likelihood of each continuation after its context, in request order.

        Missing answers are computed `batch_size` contexts at a time (a context's
        continuations stay together, so a backend can run the context once), longest
        contexts first (`context_length`) so that each batch holds prompts of about one
        length (little padding), and stored as each batch finishes.
        """
        todo = [LoglikelihoodRequest(*r) for r in requests]
        length = functools.cache(self.context_length)  # once per context, not per choice
        values = self._answer("loglikelihood", [list(r) for r in todo],
                              lambda part: self._loglikelihood([todo[i] for i in part]),
                              group=lambda i: todo[i].context, per_batch=self.batch_size,
                              order=lambda i: -length(todo[i].context))
        return [float(v) for v in values]

    def context_length(self, context: str) -> int:
        """How long `context` is for forming batches of one length: characters here; a
        backend that pads batches of tokens counts tokens."""
        return len(context)

    def loglikelihood_rolling(self, texts: Sequence[str]) -> list[tuple[float, int]]:
        """(log-likelihood sum, token count) per text, through lm-eval's rolling windows."""
        texts = list(texts)
        values = self._answer("loglikelihood_rolling", texts,
                              lambda part: self._loglikelihood_rolling([texts[i] for i in part]),
                              per_batch=self.batch_size)
        return [(float(v[0]), int(v[1])) for v in values]

    def generate(self, prompts: Sequence[str], settings: GenerationSettings) -> list[str]:
        """Completions of `prompts` under `settings`, `generation_batch_size` at a time."""
        prompts = list(prompts)
        return self._answer("generate", [[p, settings.key()] for p in prompts],
                            lambda part: self._generate([prompts[i] for i in part], settings),
                            per_batch=self.generation_batch_size)

    def timed_generate(self, prompt: str, settings: GenerationSettings) -> tuple[str, float]:
        """One uncached completion and its wall-clock seconds (for latency)."""
        start = time.perf_counter()
        out = self._generate([prompt], settings)[0]
        return out, time.perf_counter() - start

    # --- cache ------------------------------------------------------------------------
    def _answer(self, kind: str, contents: list[Any], compute: Callable[[list[int]], list[Any]],
                *, per_batch: int, group: Callable[[int], Hashable] | None = None,
                order: Callable[[int], Any] | None = None) -> list[Any]:
        """Cached answers to `contents`; the missing ones computed by `compute(indexes)` in
        batches of `per_batch` groups (each request its own group unless `group` says),
        each batch stored before the next starts."""
        if not contents:
            return []
        identity = self.identity
        keys = [request_key(identity, kind, c) for c in contents]
        found: dict[str, Any] = {}
        if self.use_cache:
            found = self.cache.get_many(keys)
            self.stats["cache_hits"] += len(found)
        missing: dict[str, int] = {}  # one computation per distinct missing request
        for index, key in enumerate(keys):
            if key not in found and key not in missing:
                missing[key] = index
        total, done = len(set(keys)), len(set(keys)) - len(missing)
        if self.progress is not None:
            self.progress(done, total)
        for part in _batches(list(missing.values()), per_batch, group, order):
            values = compute(part)
            fresh = {keys[i]: v for i, v in zip(part, values, strict=True)}
            self.stats["requests_scored"] += len(part)
            if self.use_cache:
                self.cache.put_many(fresh)
            found.update(fresh)
            done += len(part)
            if self.progress is not None:
                self.progress(done, total)
        return [found[k] for k in keys]


def _batches(indexes: list[int], per_batch: int, group: Callable[[int], Hashable] | None,
             order: Callable[[int], Any] | None = None) -> list[list[int]]:
    """`indexes` cut into batches of at most `per_batch` groups, a group never split;
    groups sorted by `order` of their first member (stable) when given."""
    if order is not None:
        indexes = sorted(indexes, key=order)
    if group is None:
        step = max(per_batch, 1)
        return [indexes[i:i + step] for i in range(0, len(indexes), step)]
    members: dict[Hashable, list[int]] = {}
    for index in indexes:
        members.setdefault(group(index), []).append(index)
    groups = list(members.values())
    step = max(per_batch, 1)
    return [[i for g in groups[s:s + step] for i in g] for s in range(0, len(groups), step)]


def _transformers_version() -> str:
    try:
        return version("transformers")
    except PackageNotFoundError:
        return "none"
