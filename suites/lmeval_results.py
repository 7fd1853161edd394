"""A multiple-choice suite's records as lm-evaluation-harness's tasks: metrics and samples.

For each suite whose spec names `lmeval_task`, the records become lm-eval tasks, one per
task name (`{subject}` in the spec's task stands for an item's subject, as lm-eval has
one MMLU task per subject); suites.lmeval_files writes them as lm-eval's files.

Nothing is scored again: lm-eval's own task object, built over the suite's items with
the suite's prompt format and lm-eval's metric list for the named task, turns each
record's `choice_logprobs` into its per-document metrics (`process_results`: acc, and
acc_norm where the task reports it), its aggregation and `stderr_for_metric` give the
task's value and standard error, and its `dump_config` the task's config. Hashes and JSON
handling are lm-eval's helpers. lm-eval is imported where it is used, after
quiet_lmeval(), as elsewhere in suites: importing it is slow and noisy.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.core.backends.lmeval_bridge import quiet_lmeval
from harness.core.errors import BadInputError, InternalError
from harness.core.records import CLEAN, Record
from suites.base import MCItem, SuiteSpec
from suites.formats import TARGET_DELIMITER, PromptFormat, get_format
from suites.lmeval_tasks import task_config, task_docs
from suites.loaders import HUB_PREFIX

# Demo data is not the benchmark: its tasks are written under their own name, so no tool
# takes a demo number for lm-eval's task (e.g. medqa_4options_medgate_demo)
DEMO_SUFFIX = "_medgate_demo"
# lm-eval's multiple-choice metrics that read is_greedy, which records do not keep
NEEDS_GREEDY = {"exact_match"}
# lm-eval's default; the mean's standard error is closed-form, so it draws no bootstrap.
BOOTSTRAP_ITERS = 100000


@dataclass
class TaskResult:
    """One lm-eval task of a suite: its entries in the results JSON and its samples."""

    task: str
    suite: str
    metrics: dict[str, Any]
    config: dict[str, Any]
    version: Any
    higher_is_better: dict[str, bool]
    n_original: int
    samples: list[dict[str, Any]] = field(default_factory=list)

def task_name(spec: SuiteSpec, subject: str | None, item_id: str) -> str:
    """The lm-eval task an item belongs to (`{subject}` filled from the item's subject)."""
    template = spec.lmeval_task or ""
    if "{subject}" not in template:
        return template
    if not subject:
        raise BadInputError(f"item '{item_id}' has no subject, but suite '{spec.name}' writes "
                            f"one lm-eval task per subject ({template})")
    return template.format(subject=subject)


@lru_cache(maxsize=1)
def _lmeval_task_files() -> dict[str, list[Path]]:
    """Task name -> lm-eval's YAML files that declare it.

    A text scan, not TaskManager(): indexing all of lm-eval's task files takes about 15 s
    per process; one scan (about 1 s) finds each task's file, and TaskManager, pointed at
    its folder, still resolves it (includes, templates, defaults).
    """
    import lm_eval

    pattern = re.compile(r"""^["']?task["']?\s*:\s*["']?([^"'\s#]+)["']?\s*$""", re.MULTILINE)
    files: dict[str, list[Path]] = {}
    for path in sorted((Path(lm_eval.__file__).parent / "tasks").rglob("*.yaml")):
        for name in pattern.findall(path.read_text(encoding="utf-8", errors="replace")):
            files.setdefault(name, []).append(path)
    return files


@lru_cache(maxsize=256)
def lmeval_task_config(name: str) -> dict[str, Any]:
    """lm-eval's own config of task `name` (metric list, alias, version), resolved by its
    TaskManager from the task's YAML."""
    quiet_lmeval()
    from lm_eval.tasks import TaskManager

    for path in _lmeval_task_files().get(name, []):
        index = TaskManager(include_path=str(path.parent), include_defaults=False).task_index
        if name in index:
            return dict(index[name].cfg)
    raise BadInputError(f"lm-eval {metadata.version('lm_eval')} has no task '{name}': a suite "
                        "spec's lmeval_task must name one of lm-eval's tasks")


def _quietly(load: Callable[[], Any]) -> Any:
    """`load()` without the datasets progress bar ("Generating test split") on the
    terminal: building a task here reads a temporary file, not the user's data."""
    import datasets

    shown = not datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()
    try:
        return load()
    finally:
        if shown:
            datasets.utils.enable_progress_bars()


def _build_task(name: str, docs: list[dict[str, Any]], fmt: PromptFormat) -> Any:
    """lm-eval's ConfigurableTask for `name` over `docs`, with the prompt format's fields and
    the metric list, alias and version of lm-eval's own task of that name."""
    quiet_lmeval()
    from lm_eval.tasks import TaskManager

    theirs = lmeval_task_config(name)
    with tempfile.TemporaryDirectory(prefix="medgate-lmeval-") as tmp:
        data_file = Path(tmp) / f"{name}.jsonl"
        data_file.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs),
                             encoding="utf-8")
        config = task_config(name, data_file, fmt)
        config.pop("metric_list")  # lm-eval's defaults for multiple choice, unless the task names its own
        for key in ("metric_list", "task_alias", "metadata"):  # absent: lm-eval's defaults
            if key in theirs:
                config[key] = theirs[key]
        task = _quietly(lambda: TaskManager(include_defaults=False).load([config]))["tasks"][name]
    if NEEDS_GREEDY & set(task.aggregation()):
        raise InternalError(f"lm-eval's task '{name}' reports {sorted(NEEDS_GREEDY)}, which "
                            "needs whether each choice was the greedy continuation; medgate's "
                            "records do not keep it")
    return task


def dataset_fields(data: str | None) -> dict[str, Any]:
    """A task config's data fields for where the suite's data came from: a local file as
    lm-eval's `json` loader reads one, or a hub source `hf:ID[:CONFIG][@SPLIT]`."""
    if data is None:
        return {"dataset_path": None, "dataset_kwargs": {}}
    if data.startswith(HUB_PREFIX):
        source, _, split = data[len(HUB_PREFIX):].partition("@")
        dataset, _, name = source.partition(":")
        return {"dataset_path": dataset, "dataset_name": name or None,
                "dataset_kwargs": {}, "test_split": split or "test"}
    return {"dataset_path": "json", "dataset_kwargs": {"data_files": {"test": data}}}


def _sample(task: Any, doc_id: int, doc: dict[str, Any], record: Record,
            arguments: list[tuple[str, str]]) -> dict[str, Any]:
    """One line of lm-eval's samples file, as its evaluator logs it and its tracker saves it.

    lm-eval's responses are (log-likelihood, is_greedy); medgate keeps no is_greedy, so it
    is written as None. Only `exact_match` reads it (refused in _build_task); the False
    handed to process_results is never read.
    """
    from lm_eval.utils import handle_non_serializable, hash_string, sanitize_list

    responses = [(float(ll), None) for ll in record.choice_logprobs or []]
    metrics = task.process_results(doc, [(ll, False) for ll, _ in responses])
    target = task.doc_to_target(doc)
    sample = {
        "doc_id": doc_id,
        "doc": doc,
        "target": str(target),
        "arguments": {f"gen_args_{i}": {f"arg_{j}": part for j, part in enumerate(arg)}
                      for i, arg in enumerate(arguments)},
        "resps": sanitize_list([[list(r)] for r in responses]),
        "filtered_resps": sanitize_list([list(r) for r in responses]),
        "filter": "none",
        "metrics": list(metrics),
        "doc_hash": hash_string(json.dumps(doc, indent=2, default=handle_non_serializable,
                                           ensure_ascii=False)),
        "prompt_hash": hash_string(arguments[0][0]),
        "target_hash": hash_string(str(target)),
        "medgate_item_id": record.item_id,
    }
    return {**sample, **metrics}


def _aggregate(task: Any, samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Each metric's aggregate and its standard error under lm-eval's keys
    (`acc,none`, `acc_stderr,none`), the way lm-eval's evaluator aggregates a task."""
    from lm_eval.api.metrics import stderr_for_metric

    out: dict[str, Any] = {}
    for metric, aggregate in task.aggregation().items():
        values = [s[metric] for s in samples if metric in s]
        if not values:
            continue
        out[f"{metric},none"] = aggregate(values)
        stderr = stderr_for_metric(metric=aggregate, bootstrap_iters=BOOTSTRAP_ITERS)
        out[f"{metric}_stderr,none"] = stderr(values) if stderr and len(values) > 1 else "N/A"
    return out


def suite_task_results(spec: SuiteSpec, items: Sequence[MCItem], records: Sequence[Record], *,
                       chat: bool = False, data: str | None = None,
                       data_sha256: str | None = None, demo: bool = False,
                       num_fewshot: int = 0) -> list[TaskResult]:
    """The lm-eval tasks of one suite's clean records.

    `items` are all the items of the suite's data (lm-eval's `original` count and each
    document's index come from them); `records` the scored ones. Tasks on demo data are
    named `<task>_medgate_demo`. `chat` says a chat
    template was applied (lm-eval then puts no delimiter before a choice).
    """
    if not spec.lmeval_task:
        return []
    fmt = get_format(spec.prompt_format or spec.name)
    delimiter = "" if chat else TARGET_DELIMITER
    by_task: dict[str, list[MCItem]] = {}
    for item in items:
        by_task.setdefault(task_name(spec, item.subject, item.item_id), []).append(item)
    position = {item.item_id: (name, index) for name, group in by_task.items()
                for index, item in enumerate(group)}
    scored: dict[str, list[Record]] = {}
    for record in records:
        if record.variant != CLEAN:
            continue
        if record.item_id not in position:
            raise InternalError(f"record '{record.item_id}' of suite '{spec.name}' is not an "
                                "item of its data")
        scored.setdefault(position[record.item_id][0], []).append(record)
    results = []
    for name, task_records in scored.items():
        group = by_task[name]
        docs = task_docs(group, fmt)
        try:
            task = _build_task(name, docs, fmt)
        except BadInputError as exc:
            raise BadInputError(f"suite '{spec.name}', lmeval_task: {exc}",
                                where=str(spec.path) if spec.path else None) from exc
        samples = []
        for record in task_records:
            index = position[record.item_id][1]
            item = group[index]
            arguments = [(record.prompt, delimiter + c) for c in fmt.continuations(item)]
            samples.append(_sample(task, index, docs[index], record, arguments))
        config = dict(task.dump_config())
        config["num_fewshot"] = num_fewshot
        written = name
        if demo:
            written = name + DEMO_SUFFIX
            config["task"] = written
            config["task_alias"] = f"{config.get('task_alias', name)} (medgate demo data)"
        config.update(dataset_fields(data))
        config["metadata"] = {**config.get("metadata", {}), "medgate": {
            "suite": spec.name, "data": data, "data_sha256": data_sha256, "demo": demo,
            "lmeval_dataset": spec.lmeval_dataset,
            "docs": "medgate's normalised rows of the data (each sample's `doc`)"}}
        results.append(TaskResult(task=written, suite=spec.name, metrics=_aggregate(task, samples),
                                  config=config, version=task.VERSION,
                                  higher_is_better=task.higher_is_better(),
                                  n_original=len(group), samples=samples))
    return results

