"""The generic suites: multiple choice, generation, perplexity and answer latency.

Each is configured entirely by its YAML spec (loader, prompt format, metrics, options):
the suite turns items into requests for the model and the answers into records, and the
metrics its spec lists are computed from the records. A new benchmark in one of these
shapes is a new spec file, not new code.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any, ClassVar

from pydantic import PositiveInt

from harness.core.backends import GenerationSettings, ModelHandle
from harness.core.errors import BadInputError
from harness.core.records import Record
from suites.base import GenItem, MCItem, RunContext, SuiteResult, SuiteSpec
from suites.items import first_n, load_data, select_items
from suites.metrics import compute_metrics
from suites.metrics.registry import Metrics
from suites.metrics.text import per_item
from suites.scoring import score_mc


def load_spec_items(spec: SuiteSpec, ctx: RunContext) -> list:
    """Every item of the suite's data by the spec's loader (no exclusion, no limit)."""
    return load_data(spec, ctx)


def suite_options(spec: SuiteSpec, ctx: RunContext) -> dict[str, Any]:
    """The spec's options with the run's per-suite overrides on top."""
    return {**spec.options, **ctx.options}


def metric_options(spec: SuiteSpec, ctx: RunContext, **resolved: Any) -> dict[str, Any]:
    """The options the metrics read: the suite's effective options and what it resolved
    from them, in their JSON form (the form the suite info keeps them in)."""
    return json.loads(json.dumps({**suite_options(spec, ctx), **resolved}, default=str))


def summarise(spec: SuiteSpec, records: list[Record], ctx: RunContext,
              **resolved: Any) -> Metrics:
    """The metrics the spec lists, computed from the records; `resolved` adds what the
    suite worked out from its options (e.g. the variants it ran) for the metrics to read."""
    return compute_metrics(spec.metrics, records, options=metric_options(spec, ctx, **resolved),
                           seed=ctx.seed)


def finish(spec: SuiteSpec, records: list[Record], ctx: RunContext,
           info: dict[str, Any] | None = None, **resolved: Any) -> SuiteResult:
    """The suite's result: its records, their metrics, and an info that says how to
    compute those metrics again (`metrics`, `metric_options`, `metric_seed`).

    A gate that judges a subset of the items (a selection/confirmation split) or at a
    stricter confidence recomputes the metrics from the records with exactly these.
    """
    how: dict[str, Any] = {"metrics": list(spec.metrics),
                           "metric_options": metric_options(spec, ctx, **resolved),
                           "metric_seed": ctx.seed}
    metrics = summarise(spec, records, ctx, **resolved)
    if metrics.absent:  # listed metrics these records cannot give, with why (not zeros)
        how["metrics_absent"] = dict(metrics.absent)
    return SuiteResult(records=records, metrics=metrics, info={**(info or {}), **how})


class MultipleChoiceSuite:
    """Items scored by choice log-likelihood in an lm-eval prompt format."""

    OPTIONS: ClassVar[dict[str, Any]] = {"subjects": list[str], "labels": list[str]}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def items(self, ctx: RunContext) -> tuple[list[MCItem], dict[str, Any]]:
        info: dict[str, Any] = {}
        subjects = self.spec.options.get("subjects")

        def keep(items: list[MCItem]) -> list[MCItem]:
            info["items_in_file"] = len(items)
            if not subjects:
                return items
            wanted = set(subjects)
            excluded = Counter(i.subject for i in items if i.subject not in wanted)
            kept = [i for i in items if i.subject in wanted]
            if excluded:  # reported, not silently dropped
                info["excluded_subjects"] = dict(sorted(excluded.items()))
            if not kept:
                raise BadInputError(f"no items of the subjects {sorted(wanted)} for suite "
                                    f"'{self.spec.name}'", where=str(ctx.data_path))
            return kept

        return select_items(self.spec, ctx, keep=keep), info

    def run(self, model: ModelHandle, ctx: RunContext) -> SuiteResult:
        items, info = self.items(ctx)
        records = score_mc(model, items, self.spec.prompt_format or self.spec.name,
                           suite=self.spec.name, ctx=ctx)
        return finish(self.spec, records, ctx, info)


class GenerationSuite:
    """Generated answers compared with references (ROUGE-L, BLEU-4)."""

    OPTIONS: ClassVar[dict[str, Any]] = {"chat": bool, "instruction": str}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def run(self, model: ModelHandle, ctx: RunContext) -> SuiteResult:
        items: list[GenItem] = select_items(self.spec, ctx)
        settings = GenerationSettings(max_new_tokens=ctx.max_new_tokens,
                                      chat_template=bool(self.spec.options.get("chat", True)))
        outputs = model.generate([i.prompt for i in items], settings)
        refs = [i.reference or "" for i in items]
        rouge, bleu = per_item("rouge_l", outputs, refs), per_item("bleu4", outputs, refs)
        records = [Record(suite=self.spec.name, item_id=i.item_id, prompt=i.prompt, gold=i.reference,
                          output=o, labels={"rouge_l": r, "bleu4": b}, demo=ctx.is_demo_data,
                          meta=dict(i.meta))
                   for i, o, r, b in zip(items, outputs, rouge, bleu, strict=True)]
        return finish(self.spec, records, ctx, {"max_new_tokens": ctx.max_new_tokens})


class PerplexitySuite:
    """Perplexity and bits per byte of held-out text (lm-eval rolling log-likelihood)."""

    OPTIONS: ClassVar[dict[str, Any]] = {}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def run(self, model: ModelHandle, ctx: RunContext) -> SuiteResult:
        items: list[GenItem] = select_items(self.spec, ctx)
        texts = [i.prompt for i in items]
        results = model.loglikelihood_rolling(texts)
        records = [Record(suite=self.spec.name, item_id=i.item_id, prompt=i.prompt,
                          labels={"loglikelihood": ll, "tokens": nt,
                                  "bytes": len(i.prompt.encode("utf-8"))},
                          demo=ctx.is_demo_data, meta=dict(i.meta))
                   for i, (ll, nt) in zip(items, results, strict=True)]
        return finish(self.spec, records, ctx)


class LatencySuite:
    """Wall-clock seconds to generate a typical answer (never cached: it measures time)."""

    OPTIONS: ClassVar[dict[str, Any]] = {"prompts": PositiveInt, "max_new_tokens": PositiveInt,
                                         "instruction": str}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def run(self, model: ModelHandle, ctx: RunContext) -> SuiteResult:
        count = int(self.spec.options.get("prompts", 5))
        items: list[GenItem] = select_items(
            self.spec, ctx, limit=lambda items, limit: first_n(items, min(count, limit or count)))
        new_tokens = int(self.spec.options.get("max_new_tokens", 64))
        # warm-up: load, first kernels
        model.timed_generate(items[0].prompt, GenerationSettings(max_new_tokens=4))
        settings = GenerationSettings(max_new_tokens=new_tokens)
        records = []
        for item in items:
            start = time.perf_counter()
            output, took = model.timed_generate(item.prompt, settings)
            records.append(Record(suite=self.spec.name, item_id=item.item_id, prompt=item.prompt,
                                  output=output, labels={"seconds": took,
                                                         "wall_s": time.perf_counter() - start},
                                  demo=ctx.is_demo_data))
        return finish(self.spec, records, ctx,
                      {"device": model.device, "max_new_tokens": new_tokens})


KIND_CLASSES = {"multiple_choice": MultipleChoiceSuite, "generation": GenerationSuite,
                "perplexity": PerplexitySuite}
