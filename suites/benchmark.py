"""The generic suites: multiple choice, generation, perplexity and answer latency.

Each is configured entirely by its YAML spec (loader, prompt format, metrics, options);
a new benchmark in one of these shapes is a new spec file, not new code.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from typing import Any, ClassVar

from pydantic import PositiveInt

from harness.core.records import Record, metric
from suites.base import GenItem, MCItem, RunContext, SuiteResult, SuiteSpec
from suites.loaders import load_items


def load_spec_items(spec: SuiteSpec, ctx: RunContext) -> list:
    """The suite's items from ctx.data_path by the spec's loader (no limit applied)."""
    from harness.core.errors import BadInputError

    if ctx.data_path is None:
        raise BadInputError(f"suite '{spec.name}' has no bundled data: pass "
                            f"--data {spec.name}=PATH (or evaluation.data.{spec.name} in the "
                            "config)")
    if spec.loader is None:
        raise BadInputError(f"suite '{spec.name}' names no loader in its spec")
    items = load_items(spec.loader, str(ctx.data_path), spec.options)
    if ctx.exclude:  # contaminated items leave before the limit picks the items to score
        items = [item for item in items if item.item_id not in ctx.exclude]
    return items


def _limit(items: list, limit: int | None) -> list:
    return items if limit is None else items[:limit]


class MultipleChoiceSuite:
    """Items scored by choice log-likelihood in an lm-eval prompt format."""

    OPTIONS: ClassVar[dict[str, Any]] = {"subjects": list[str], "per_subject": bool,
                                         "labels": list[str]}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def items(self, ctx: RunContext) -> tuple[list[MCItem], dict[str, Any]]:
        items: list[MCItem] = load_spec_items(self.spec, ctx)
        info: dict[str, Any] = {"items_in_file": len(items)}
        subjects = self.spec.options.get("subjects")
        if subjects:
            wanted = set(subjects)
            excluded = Counter(i.subject for i in items if i.subject not in wanted)
            items = [i for i in items if i.subject in wanted]
            if excluded:  # reported, not silently dropped
                info["excluded_subjects"] = dict(sorted(excluded.items()))
            if not items:
                from harness.core.errors import BadInputError

                raise BadInputError(f"no items of the subjects {sorted(wanted)} for suite "
                                    f"'{self.spec.name}'", where=str(ctx.data_path))
        return _limit(items, ctx.limit), info

    def run(self, model, ctx: RunContext) -> SuiteResult:
        from suites import metrics as m

        items, info = self.items(ctx)
        records = model.score_mc(items, self.spec.prompt_format or self.spec.name,
                                 suite=self.spec.name, ctx=ctx)
        wanted = self.spec.metrics or ("accuracy",)
        out: dict[str, Any] = {}
        for name in wanted:
            if name == "accuracy":
                out["accuracy"] = m.accuracy(records)
            elif name == "macro_f1":
                labels = self.spec.options.get("labels") or sorted({str(r.gold) for r in records})
                out["macro_f1"] = m.macro_f1(records, labels)
            elif name == "ece":
                out["ece"] = m.ece(records)
            elif name == "brier":
                out["brier"] = m.brier(records)
            else:
                from harness.core.errors import BadInputError

                raise BadInputError(f"suite '{self.spec.name}': unknown metric '{name}'")
        if self.spec.options.get("per_subject"):
            by_subject: dict[str, list[Record]] = {}
            for r in records:
                by_subject.setdefault(str(r.meta.get("subject")), []).append(r)
            for subject, recs in sorted(by_subject.items()):
                out[f"accuracy.{subject}"] = m.accuracy(recs)
        return SuiteResult(records=records, metrics=out, info=info)


class GenerationSuite:
    """Generated answers compared with references (ROUGE-L, BLEU-4)."""

    OPTIONS: ClassVar[dict[str, Any]] = {"chat": bool, "instruction": str}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def run(self, model, ctx: RunContext) -> SuiteResult:
        from suites import metrics as m

        items: list[GenItem] = _limit(load_spec_items(self.spec, ctx), ctx.limit)
        outputs = model.generate([i.prompt for i in items], max_new_tokens=ctx.max_new_tokens,
                                 chat=bool(self.spec.options.get("chat", True)))
        refs = [i.reference or "" for i in items]
        rouge, rouge_items = m.rouge_l(outputs, refs)
        bleu, bleu_items = m.bleu4(outputs, refs)
        records = [Record(suite=self.spec.name, item_id=i.item_id, prompt=i.prompt, gold=i.reference,
                          output=o, labels={"rouge_l": r, "bleu4": b}, demo=ctx.is_demo_data,
                          meta=dict(i.meta))
                   for i, o, r, b in zip(items, outputs, rouge_items, bleu_items, strict=True)]
        return SuiteResult(records=records, metrics={"rouge_l": rouge, "bleu4": bleu},
                           info={"max_new_tokens": ctx.max_new_tokens})


class PerplexitySuite:
    """Perplexity and bits per byte of held-out text (lm-eval rolling log-likelihood)."""

    OPTIONS: ClassVar[dict[str, Any]] = {}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def run(self, model, ctx: RunContext) -> SuiteResult:
        from suites import metrics as m

        items: list[GenItem] = _limit(load_spec_items(self.spec, ctx), ctx.limit)
        texts = [i.prompt for i in items]
        results = model.rolling_loglikelihood(texts)
        n_bytes = [len(t.encode("utf-8")) for t in texts]
        ppl, bpb = m.perplexity(results, n_bytes)
        records = [Record(suite=self.spec.name, item_id=i.item_id, prompt=i.prompt,
                          labels={"loglikelihood": ll, "tokens": nt, "bytes": nb},
                          demo=ctx.is_demo_data, meta=dict(i.meta))
                   for i, (ll, nt), nb in zip(items, results, n_bytes, strict=True)]
        return SuiteResult(records=records, metrics={"perplexity": ppl, "bits_per_byte": bpb})


class LatencySuite:
    """Wall-clock seconds to generate a typical answer (never cached: it measures time)."""

    OPTIONS: ClassVar[dict[str, Any]] = {"prompts": PositiveInt, "max_new_tokens": PositiveInt,
                                         "instruction": str}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def run(self, model, ctx: RunContext) -> SuiteResult:
        items: list[GenItem] = load_spec_items(self.spec, ctx)
        count = int(self.spec.options.get("prompts", 5))
        items = _limit(items, min(count, ctx.limit or count))
        new_tokens = int(self.spec.options.get("max_new_tokens", 64))
        model.timed_generate(items[0].prompt, max_new_tokens=4)  # warm-up: load, first kernels
        records, seconds = [], []
        for item in items:
            start = time.perf_counter()
            output, took = model.timed_generate(item.prompt, max_new_tokens=new_tokens)
            seconds.append(took)
            records.append(Record(suite=self.spec.name, item_id=item.item_id, prompt=item.prompt,
                                  output=output, labels={"seconds": took,
                                                         "wall_s": time.perf_counter() - start},
                                  demo=ctx.is_demo_data))
        ordered = sorted(seconds)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        n = len(seconds)
        return SuiteResult(records=records,
                           metrics={"p50_s": metric(statistics.median(seconds), None, n),
                                    "p95_s": metric(p95, None, n, method="nearest rank")},
                           info={"device": model.device, "max_new_tokens": new_tokens})


KIND_CLASSES = {"multiple_choice": MultipleChoiceSuite, "generation": GenerationSuite,
                "perplexity": PerplexitySuite}
