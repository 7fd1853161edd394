"""Evaluate one model on a list of suites: records and a summary per suite, written as
each suite finishes.

A suite that fails does not stop the others and is never hidden: its summary records the
error (the gate fails closed on it), its stale records are removed, and the return value
names it. Errors in the user's input (unknown suite, missing file) are raised before any
model work starts.

The evaluator alone writes a suite's info (what was scored, on which data and model, how
long it took) beside the metrics the suite returned: a suite describes itself in
`SuiteResult.info`, never in its metrics.

Every multiple-choice suite whose spec names an lm-eval task is also written in
lm-evaluation-harness's own files under <eval_dir>/lm-eval/<model>/ (results_<date>.json,
samples_<task>_<date>.jsonl; suites.lmeval_results computes them, suites.lmeval_files
writes them), so lm-eval's tooling reads medgate's results; a failure to write them fails
the suite like any other error.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.app.sequential import SequentialPlan, run_sequential
from harness.core.config import EvaluationConfig
from harness.core.console import err
from harness.core.errors import BadInputError
from harness.core.io import file_sha256
from harness.core.progress import SuiteProgress
from harness.core.records import Record, records_path, write_records
from harness.core.summaries import (
    MetricEntry,
    SuiteInfo,
    SuiteSummary,
    read_summaries,
    write_suite_summary,
)
from suites.base import RunContext, SuiteResult, SuiteSpec
from suites.benchmark import load_spec_items
from suites.lmeval_files import (
    LMEVAL_DIR,
    ModelRun,
    new_date_id,
    remove_samples,
    write_results,
    write_samples,
)
from suites.lmeval_results import TaskResult, suite_task_results
from suites.registry import get_spec, get_suite, make_context

if TYPE_CHECKING:
    from harness.core.backends import ModelHandle


def data_sha256(path: Path | str | None) -> str | None:
    """sha256 of a local data file; None for the bundled demo data or a hub dataset name."""
    if path is None or isinstance(path, str):
        return None
    return file_sha256(path)


def effective_limit(limit: int | None, suite_limit: int | None) -> int | None:
    """The tighter of the run-wide limit and the suite's own cap (None means all items)."""
    caps = [x for x in (limit, suite_limit) if x is not None]
    return min(caps) if caps else None


def evaluate_model(handle: ModelHandle, suite_names: list[str], eval_dir: Path, *,
                   data: dict[str, str] | None = None, limit: int | None = None,
                   config: EvaluationConfig | None = None, progress: bool = True,
                   exclude: dict[str, set[str]] | None = None,
                   sequential: SequentialPlan | None = None) -> dict[str, Any]:
    """Run each suite on `handle`; write <eval_dir>/<suite>.records.jsonl and summary.json.

    `exclude` maps a suite to item ids that must not be scored (contaminated by the
    training data); how many were removed is in the suite's info. With `sequential`,
    each suite is scored in blocks until the gate needs no more of it
    (harness.app.sequential), and the plan's `skip` suites are not scored.

    Returns {"summary": {suite: SuiteSummary}, "failed": {suite: message},
    "bad_input": [suites], "cache_hits": int, "seconds": {suite: s}}, and "lmeval_results"
    (the path of lm-eval's results JSON) when a suite was written as lm-eval tasks.
    """
    config = config or EvaluationConfig()
    data = {**config.data, **(data or {})}
    limit = limit if limit is not None else config.limit
    handle.use_cache = config.cache
    handle.fast_path = handle.fast_path or config.fast_path
    eval_dir = Path(eval_dir)
    if not suite_names:
        raise BadInputError("no suites to evaluate")
    for name in [*suite_names, *data]:  # unknown names and missing files fail before any work
        get_spec(name)
    contexts = {name: make_context(name, data,
                                   limit=effective_limit(limit, config.limits.get(name)),
                                   seed=config.seed, num_fewshot=config.num_fewshot,
                                   apply_chat_template=config.apply_chat_template,
                                   max_new_tokens=config.max_new_tokens,
                                   options=config.suite_options.get(name, {}),
                                   exclude=frozenset((exclude or {}).get(name, ())))
                for name in suite_names}
    eval_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"summary": {}, "failed": {}, "bad_input": [], "cache_hits": 0,
                           "seconds": {}}
    lmeval_run, lmeval_tasks = _lmeval_run(handle, config, limit), []
    date_id, started = new_date_id(), time.time()
    previous = read_summaries(eval_dir)
    for name in suite_names:
        if sequential is not None and name in sequential.skip:
            if progress:
                err.print(f"[bold]{name}[/] on {handle.tag}: not scored (no check gated on "
                          f"{sequential.device} reads it, and this evaluation only chooses)",
                          highlight=False)
            continue
        ctx = contexts[name]
        spec = get_spec(name)
        stale: list[Path] = []  # this run's files replace them, or the suite fails: none stay
        if name in previous:
            stale = remove_samples(eval_dir / LMEVAL_DIR, lmeval_run,
                                   previous[name].info.extra.get("lmeval_tasks") or [])
        tasks: list[TaskResult] = []
        if progress:
            source = "demo data" if ctx.is_demo_data else str(ctx.data_path)
            err.print(f"[bold]{name}[/] on {handle.tag} ({source})", highlight=False)
        hits_before = handle.stats["cache_hits"]
        start = time.perf_counter()
        bar = SuiteProgress(err, f"{name} on {handle.tag}") if progress else None
        if bar is not None:
            bar.__enter__()
            handle.progress = bar.update
        try:
            suite = get_suite(name, ctx.options)
            if sequential is not None and name not in sequential.full:
                def write_partial(partial: SuiteResult, name=name, ctx=ctx, spec=spec,
                                  start=start, hits_before=hits_before) -> None:
                    info = _suite_info(handle, spec, ctx, partial, start, hits_before)
                    write_records(records_path(eval_dir, name), partial.records)
                    write_suite_summary(eval_dir, name, SuiteSummary(
                        metrics=_metric_entries(partial.metrics),
                        info=SuiteInfo.model_validate(info)))

                result = run_sequential(suite, name, handle, ctx, eval_dir, sequential,
                                        write_partial)
            else:
                result = suite.run(handle, ctx)
            leaked = sorted({r.item_id for r in result.records} & ctx.exclude)
            if leaked:  # a suite that does not honour ctx.exclude must not pass for clean
                raise RuntimeError(f"suite '{name}' scored {len(leaked)} item(s) the data "
                                   f"preflight excluded as contaminated: {', '.join(leaked[:10])}")
            write_records(records_path(eval_dir, name), result.records)
            info = _suite_info(handle, spec, ctx, result, start, hits_before)
            tasks = _write_lmeval_samples(eval_dir, lmeval_run, date_id, spec, ctx,
                                          result.records, info, lmeval_tasks)
            if spec.lmeval_task:
                info.update(lmeval_task=spec.lmeval_task, lmeval_dataset=spec.lmeval_dataset,
                            lmeval_tasks=[t.task for t in tasks])
            summary = SuiteSummary(metrics=_metric_entries(result.metrics),
                                   info=SuiteInfo.model_validate(info))
            lmeval_tasks += tasks
        except Exception as exc:  # noqa: BLE001 - recorded, reported and returned, never hidden
            message = f"{type(exc).__name__}: {exc}"
            summary = SuiteSummary(error=message, info=SuiteInfo(
                data=str(ctx.data_path) if ctx.data_path else None, demo=ctx.is_demo_data,
                backend=handle.backend, tag=handle.tag, tags=list(spec.tags)))
            records_path(eval_dir, name).unlink(missing_ok=True)  # no stale records to trust
            stale += remove_samples(eval_dir / LMEVAL_DIR, lmeval_run, [t.task for t in tasks])
            out["failed"][name] = str(exc) if isinstance(exc, BadInputError) else message
            if isinstance(exc, BadInputError):
                out["bad_input"].append(name)
            elif progress:
                err.print(traceback.format_exc(limit=3), style="dim", highlight=False)
            if progress:
                err.print(f"[red]{name} failed:[/] {out['failed'][name]}", highlight=False)
        finally:
            if bar is not None:
                handle.progress = None
                bar.__exit__(None, None, None)
        out["seconds"][name] = round(time.perf_counter() - start, 3)
        write_suite_summary(eval_dir, name, summary)
        out["summary"][name] = summary
        if tasks or stale:  # after every suite: a killed run leaves results for its samples
            out["lmeval_results"] = write_results(eval_dir / LMEVAL_DIR, lmeval_run, date_id,
                                                  lmeval_tasks, started=started)
    out["cache_hits"] = handle.stats["cache_hits"]
    return out


def _suite_info(handle: ModelHandle, spec: SuiteSpec, ctx: RunContext, result: SuiteResult,
                start: float, hits_before: int) -> dict[str, Any]:
    """What the evaluator says about a suite's scoring, beside what the suite said."""
    return {
        "data": str(ctx.data_path) if ctx.data_path is not None else None,
        "data_sha256": data_sha256(ctx.data_path),
        "demo": ctx.is_demo_data,
        "n_items": len(result.records),
        "limit": ctx.limit,
        "prompt_format": spec.prompt_format,
        "tags": list(spec.tags),
        "num_fewshot": ctx.num_fewshot,
        "apply_chat_template": ctx.apply_chat_template,
        "backend": handle.backend,
        "fingerprint": handle.fingerprint,
        # vocabulary, rules and chat template: a release compares it with the last
        "tokenizer_identity": handle.tokenizer_id,
        "model": handle.name,
        "adapter": str(handle.adapter) if handle.adapter else None,
        "tag": handle.tag,
        "cached_requests": handle.stats["cache_hits"] - hits_before,
        "excluded_contaminated": len(ctx.exclude),
        "excluded_item_ids": sorted(ctx.exclude),
        "seconds": round(time.perf_counter() - start, 3),
        **result.info,
    }


def _lmeval_run(handle: ModelHandle, config: EvaluationConfig, limit: int | None) -> ModelRun:
    """The model and settings lm-eval's results name (its `config` and model folder)."""
    chat = handle.tokenizer.chat_template if config.apply_chat_template else None
    return ModelRun(name=handle.name, adapter=str(handle.adapter) if handle.adapter else None,
                    backend=handle.backend, fingerprint=handle.fingerprint, tag=handle.tag,
                    num_fewshot=config.num_fewshot, seed=config.seed, limit=limit,
                    chat_template=chat)


def _write_lmeval_samples(eval_dir: Path, run: ModelRun, date_id: str, spec: SuiteSpec,
                          ctx: RunContext, records: list[Record], info: dict[str, Any],
                          written: list[TaskResult]) -> list[TaskResult]:
    """The suite's lm-eval tasks, their samples files written (none for suites that are
    not lm-eval tasks: safety, robustness, generation, ...). `written` are the tasks
    earlier suites of this evaluation wrote: two suites may not write the same task."""
    if not spec.lmeval_task or spec.kind != "multiple_choice":
        return []
    tasks = suite_task_results(spec, load_spec_items(spec, ctx), records,
                               chat=ctx.apply_chat_template, data=info["data"],
                               data_sha256=info["data_sha256"], demo=ctx.is_demo_data,
                               num_fewshot=ctx.num_fewshot)
    owners = {t.task: t.suite for t in written}
    for task in tasks:
        if task.task in owners:
            raise BadInputError(f"suites '{owners[task.task]}' and '{spec.name}' both reproduce "
                                f"lm-eval's task '{task.task}': evaluate them separately")
    for task in tasks:
        write_samples(eval_dir / LMEVAL_DIR, run, date_id, task)
    return tasks


def _metric_entries(metrics: dict[str, Any]) -> dict[str, MetricEntry]:
    """A suite's metrics as entries (a suite may still hand them over as dicts).

    Keys starting with "_" are not metrics: the suite's description is `SuiteResult.info`,
    which the evaluator writes (some suites also put it under "_info", ignored here).
    """
    return {name: entry if isinstance(entry, MetricEntry) else MetricEntry.model_validate(entry)
            for name, entry in metrics.items() if not name.startswith("_")}
