"""The model handle every suite scores through, whatever the backend.

A handle knows which bytes it evaluates (spec, adapter, fingerprint) but loads nothing
until a forward pass is actually needed: scoring looks each item up in the result cache
first, so a fully cached re-run never loads the model. Multiple-choice scoring goes
through lm-eval (harness.core.backends.lmeval_bridge); backends differ only in how they load
the model, wrap it for lm-eval and generate text.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.cache import ResultCache, cache_key, item_hash
from harness.core.errors import BadInputError
from harness.core.models import ModelSpec, resolve_model
from harness.core.records import Record

if TYPE_CHECKING:
    from suites.base import MCItem, RunContext

BACKENDS = ("hf", "vllm")


class ModelHandle:
    """A model to evaluate: lazy weights, cached scoring, generation and perplexity."""

    backend: str = "hf"

    def __init__(self, spec: ModelSpec, *, adapter: str | Path | None = None, tag: str = "base",
                 dtype: str = "auto", token: str | None = None, batch_size: int = 8,
                 generation_batch_size: int | None = None,
                 cache: ResultCache | None = None) -> None:
        self.spec = spec
        self.adapter = Path(adapter) if adapter is not None else None
        if self.adapter is not None and not (self.adapter / "adapter_config.json").exists():
            raise BadInputError("not a PEFT adapter folder (no adapter_config.json)",
                                where=str(self.adapter))
        self.tag = tag
        self.dtype = dtype
        self.batch_size = batch_size
        self.generation_batch_size = generation_batch_size or batch_size
        self.cache = cache if cache is not None else ResultCache()
        self.use_cache = True
        # opt-in: scoring equal to lm-eval's (tested) and faster on CPU (bench.eval_speed,
        # bench.cloze_speed), but by default `medgate eval` is lm-eval's evaluator itself
        self.fast_path = False
        self._token = token
        self._fingerprint: str | None = None
        self._tokenizer = None
        self._model = None
        self._lm = None
        # what this handle actually did; tests and benchmarks read these counters
        self.stats = {"loads": 0, "forward_calls": 0, "items_scored": 0, "cache_hits": 0}

    # --- identity -------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            from harness.core.cache import remembered_fingerprint

            self._fingerprint = remembered_fingerprint(self.spec, self.adapter, self.cache)
        return self._fingerprint

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def device(self) -> str:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def describe(self) -> dict[str, Any]:
        return {"model": self.spec.describe(), "adapter": str(self.adapter) if self.adapter else None,
                "fingerprint": self.fingerprint, "backend": self.backend, "tag": self.tag}

    # --- lazy loading (backends implement) --------------------------------------------
    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from harness.core.models import load_tokenizer

            self._tokenizer = load_tokenizer(self.spec, token=self._token)
        return self._tokenizer

    def lm(self) -> Any:
        """The lm-eval LM wrapping this model (loads it on first use)."""
        raise NotImplementedError

    def _generate(self, prompts: list[str], max_new_tokens: int, chat: bool) -> list[str]:
        raise NotImplementedError

    def _fast_score(self, items: list[MCItem], fmt: Any) -> list | None:
        """Backend-specific scoring equal to lm-eval's, or None to use lm-eval itself."""
        return None

    # --- cache ------------------------------------------------------------------------
    def _lookup(self, keys: list[str]) -> dict[str, Any]:
        if not self.use_cache:
            return {}
        found = self.cache.get_many(keys)
        self.stats["cache_hits"] += len(found)
        return found

    def _store(self, entries: dict[str, Any]) -> None:
        if self.use_cache:
            self.cache.put_many(entries)

    # --- multiple choice --------------------------------------------------------------
    def score_mc(self, items: list[MCItem], prompt_format: str, *, suite: str,
                 variant: str = "clean", ctx: RunContext) -> list[Record]:
        """One record per item, scored by lm-eval; cached items need no forward pass."""
        from harness.core.backends import lmeval_bridge as bridge

        fmt = bridge.get_format(prompt_format)
        rendered = [bridge.render(item, fmt) for item in items]
        hashes = [item_hash(p, [*fmt.labels(it), *it.options]) for p, it in zip(rendered, items)]
        fmt_key = f"mc:{fmt.name}|shots={ctx.num_fewshot}|chat={ctx.apply_chat_template}"
        if ctx.num_fewshot > 0:  # shots are drawn from the other items: the set is part of it
            fmt_key += "|set=" + hashlib.sha256("".join(hashes).encode()).hexdigest()
            fmt_key += f"|seed={ctx.seed}"
        keys = [cache_key(self.fingerprint, h, fmt_key, self.backend) for h in hashes]
        found = self._lookup(keys)
        missing = [i for i, k in enumerate(keys) if k not in found]
        # Zero-shot items are scored and stored a batch at a time, so the cache is also the
        # journal of a run killed mid-suite: `--resume` finds every finished batch there.
        # Few-shot items are scored in one call (their shots are drawn from the whole set).
        step = len(missing) if ctx.num_fewshot > 0 else self.batch_size
        for start in range(0, len(missing), max(step, 1)):
            part = missing[start:start + max(step, 1)]
            todo = items if ctx.num_fewshot > 0 else [items[i] for i in part]
            scored = None
            if self.fast_path and ctx.num_fewshot == 0 and not ctx.apply_chat_template:
                scored = self._fast_score(todo, fmt)
            if scored is None:
                scored = bridge.score_items(self.lm(), todo, fmt, num_fewshot=ctx.num_fewshot,
                                            apply_chat_template=ctx.apply_chat_template,
                                            seed=ctx.seed)
            by_id = {it.item_id: s for it, s in zip(todo, scored, strict=True)}
            fresh = {keys[i]: {"prompt": by_id[items[i].item_id].prompt,
                               "logprobs": by_id[items[i].item_id].logprobs} for i in part}
            self.stats["items_scored"] += len(todo)
            self._store(fresh)
            found.update(fresh)
        return [self._mc_record(item, found[key], fmt, suite, variant, ctx)
                for item, key in zip(items, keys, strict=True)]

    def _mc_record(self, item: MCItem, scored: dict[str, Any], fmt, suite: str, variant: str,
                   ctx: RunContext) -> Record:
        labels = fmt.labels(item)
        logprobs = [float(x) for x in scored["logprobs"]]
        pred_index = fmt.predict(item, logprobs)  # lm-eval's acc (acc_norm for cloze formats)
        meta = {"pred_index": pred_index, "gold_index": item.answer, "prompt_format": fmt.name,
                "prediction": "acc_norm" if fmt.cloze else "acc",
                **({"subject": item.subject} if item.subject else {}), **item.meta}
        return Record(suite=suite, item_id=item.item_id, variant=variant, prompt=scored["prompt"],
                      gold=labels[item.answer], pred=labels[pred_index],
                      correct=pred_index == item.answer, choices=list(item.options),
                      choice_logprobs=logprobs, demo=ctx.is_demo_data, meta=meta)

    # --- free text ----------------------------------------------------------------------
    def generate(self, prompts: list[str], *, max_new_tokens: int, chat: bool = True) -> list[str]:
        """Greedy completions, batched; cached per prompt like multiple-choice scores."""
        fmt_key = f"gen|max_new_tokens={max_new_tokens}|chat={chat}"
        keys = [cache_key(self.fingerprint, item_hash(p), fmt_key, self.backend) for p in prompts]
        found = self._lookup(keys)
        missing = [i for i, k in enumerate(keys) if k not in found]
        step = self.generation_batch_size
        for start in range(0, len(missing), step):  # stored batch by batch
            part = missing[start:start + step]
            outputs = self._generate([prompts[i] for i in part], max_new_tokens, chat)
            fresh = {keys[i]: out for i, out in zip(part, outputs, strict=True)}
            self._store(fresh)
            found.update(fresh)
        return [found[k] for k in keys]

    def timed_generate(self, prompt: str, *, max_new_tokens: int, chat: bool = True) -> tuple[str, float]:
        """One uncached completion and its wall-clock seconds (for latency)."""
        start = time.perf_counter()
        out = self._generate([prompt], max_new_tokens, chat)[0]
        return out, time.perf_counter() - start

    def rolling_loglikelihood(self, texts: list[str]) -> list[tuple[float, int]]:
        """(log-likelihood sum, token count) per text, through lm-eval's rolling windows."""
        from harness.core.backends import lmeval_bridge as bridge

        keys = [cache_key(self.fingerprint, item_hash(t), "rolling", self.backend) for t in texts]
        found = self._lookup(keys)
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            results = bridge.rolling_loglikelihood(self.lm(), [texts[i] for i in missing])
            fresh = {keys[i]: list(r) for i, r in zip(missing, results, strict=True)}
            self._store(fresh)
            found.update(fresh)
        return [(float(found[k][0]), int(found[k][1])) for k in keys]


def open_model(model: str, *, adapter: str | Path | None = None, backend: str = "hf",
               tag: str = "base", dtype: str = "auto", token: str | None = None,
               batch_size: int = 8, generation_batch_size: int | None = None,
               cache: ResultCache | None = None) -> ModelHandle:
    """A handle for `model` on `backend`; nothing is loaded until a forward pass is needed."""
    if backend not in BACKENDS:
        raise BadInputError(f"unknown backend '{backend}' (known: {', '.join(BACKENDS)})")
    spec = resolve_model(model)
    if backend == "vllm":
        from harness.core.backends.vllm import VLLMHandle, require_vllm

        require_vllm()
        return VLLMHandle(spec, adapter=adapter, tag=tag, dtype=dtype, token=token,
                          batch_size=batch_size, generation_batch_size=generation_batch_size,
                          cache=cache)
    from harness.core.backends.hf import HFHandle

    return HFHandle(spec, adapter=adapter, tag=tag, dtype=dtype, token=token,
                    batch_size=batch_size, generation_batch_size=generation_batch_size,
                    cache=cache)
