"""A multiple-choice suite's records written as lm-evaluation-harness writes its results.

Leaderboard and comparison tooling (lm-eval's own EvaluationTracker readers, the Zeno
visualiser, the Open Medical-LLM Leaderboard's scripts) reads lm-eval's files:
`<output>/<model_name_sanitized>/results_<date>.json` and
`samples_<task>_<date>.jsonl`. For each suite whose spec names `lmeval_task`, the
records become those files, one lm-eval task per task name (`{subject}` in the spec's
task stands for an item's subject, as lm-eval has one MMLU task per subject).

Nothing is scored again: lm-eval's own task object, built over the suite's items with
the suite's prompt format and lm-eval's metric list for the named task, turns each
record's `choice_logprobs` into its per-document metrics (`process_results`: acc, and
acc_norm where the task reports it), its aggregation and `stderr_for_metric` give the
task's value and standard error, and its `dump_config` the task's config. Hashes, names
and JSON handling are lm-eval's helpers.

lm-eval's EvaluationTracker is not used for the writing itself: it logs and swallows a
failed write (a missing file would pass unnoticed) and appends to samples files; here a
failed write raises, and files are written atomically. lm-eval is imported where it is
used, after quiet_lmeval(), as elsewhere in suites: importing it is slow and noisy.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.core.atomic import write_text
from harness.core.backends.lmeval_bridge import quiet_lmeval
from harness.core.errors import BadInputError, InternalError
from harness.core.records import CLEAN, Record
from suites.base import MCItem, SuiteSpec
from suites.formats import TARGET_DELIMITER, PromptFormat, get_format
from suites.lmeval_tasks import task_config, task_docs
from suites.loaders import HUB_PREFIX

# Where an evaluation folder keeps lm-eval's files: evals/<tag>/lm-eval/<model>/...
LMEVAL_DIR = "lm-eval"
# Demo data is not the benchmark: its tasks are written under their own name, so no tool
# takes a demo number for lm-eval's task (e.g. medqa_4options_medgate_demo)
DEMO_SUFFIX = "_medgate_demo"
# lm-eval's multiple-choice metrics that read is_greedy, which records do not keep
NEEDS_GREEDY = {"exact_match"}
# lm-eval's default; the mean's standard error is closed-form, so it draws no bootstrap.
BOOTSTRAP_ITERS = 100000


@dataclass
class ModelRun:
    """What lm-eval's results say about the model and the settings it was scored with."""

    name: str
    adapter: str | None = None
    backend: str | None = None
    fingerprint: str | None = None
    tag: str | None = None
    num_fewshot: int = 0
    seed: int = 1234
    limit: int | None = None
    chat_template: str | None = None  # the template text when a chat template was applied

    @property
    def model_name(self) -> str:
        """lm-eval's model name: the adapter when there is one (its `peft=` argument wins)."""
        return self.adapter or self.name

    @property
    def model_args(self) -> str:
        return f"pretrained={self.name}" + (f",peft={self.adapter}" if self.adapter else "")


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


def new_date_id() -> str:
    """The date part of lm-eval's file names (EvaluationTracker's `date_id`)."""
    return datetime.now().isoformat().replace(":", "-")


def model_dir(out_dir: Path, run: ModelRun) -> Path:
    """`<out_dir>/<model_name_sanitized>`, the folder lm-eval's tracker writes into."""
    from lm_eval.utils import sanitize_model_name

    return Path(out_dir) / sanitize_model_name(run.model_name)


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


def remove_samples(out_dir: Path, run: ModelRun, tasks: Sequence[str]) -> list[Path]:
    """Delete the model's samples files of `tasks` (an earlier evaluation's), so none is
    left from a run whose records were replaced or whose suite failed."""
    from lm_eval.utils import get_file_task_name

    folder = model_dir(out_dir, run)
    if not folder.is_dir():
        return []
    removed = [p for p in folder.glob("samples_*.jsonl") if get_file_task_name(p.name) in tasks]
    for path in removed:
        path.unlink()
    return removed


def write_samples(out_dir: Path, run: ModelRun, date_id: str, result: TaskResult) -> Path:
    """`samples_<task>_<date>.jsonl`, replacing earlier samples files of the same task."""
    from lm_eval.utils import handle_non_serializable

    folder = model_dir(out_dir, run)
    folder.mkdir(parents=True, exist_ok=True)
    remove_samples(out_dir, run, [result.task])
    lines = "".join(json.dumps(s, default=handle_non_serializable, ensure_ascii=False) + "\n"
                    for s in result.samples)
    return write_text(folder / f"samples_{result.task}_{date_id}.jsonl", lines)


def results_document(run: ModelRun, results: Sequence[TaskResult], *,
                     started: float) -> dict[str, Any]:
    """lm-eval's results JSON (simple_evaluate's dict plus the tracker's fields)."""
    from lm_eval.utils import hash_string, sanitize_model_name

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "results": {r.task: {"name": r.task, "alias": r.config.get("task_alias", r.task),
                             "sample_len": len(r.samples), **r.metrics} for r in results},
        "group_subtasks": {},
        "configs": {r.task: r.config for r in results},
        "versions": {r.task: r.version for r in results},
        "n-shot": {r.task: run.num_fewshot for r in results},
        "higher_is_better": {r.task: r.higher_is_better for r in results},
        "n-samples": {r.task: {"original": r.n_original, "effective": len(r.samples)}
                      for r in results},
        "config": {"model": run.name, "model_args": run.model_args, "limit": run.limit,
                   "bootstrap_iters": BOOTSTRAP_ITERS, "fewshot_seed": run.seed,
                   "medgate_backend": run.backend, "medgate_fingerprint": run.fingerprint,
                   "medgate_tag": run.tag,
                   "medgate_suites": sorted({r.suite for r in results})},
        "date": started,
        "transformers_version": version("transformers"),
        "lm_eval_version": version("lm_eval"),
        "medgate_version": version("medgate"),
        "task_hashes": {r.task: hash_string("".join(s["doc_hash"] + s["prompt_hash"]
                                                     + s["target_hash"] for s in r.samples))
                        for r in results},
        "model_source": "medgate",
        "model_name": run.model_name,
        "model_name_sanitized": sanitize_model_name(run.model_name),
        "system_instruction": None,
        "system_instruction_sha": None,
        "fewshot_as_multiturn": run.chat_template is not None,
        "chat_template": run.chat_template,
        "chat_template_sha": hash_string(run.chat_template) if run.chat_template else None,
        "total_evaluation_time_seconds": str(time.time() - started),
    }


# The entries of a results JSON that are per task ({task: ...})
PER_TASK_KEYS = ("results", "configs", "versions", "n-shot", "higher_is_better", "n-samples",
                 "task_hashes")


def _carried_over(folder: Path, date_id: str, written: set[str]) -> dict[str, dict[str, Any]]:
    """Per-task entries of the folder's latest earlier results file for the tasks whose
    samples are still there and that this evaluation does not write again (suites a
    resumed run or an earlier `medgate eval` finished), found as lm-eval's tooling finds
    them, so the latest results file describes every samples file beside it."""
    from lm_eval.utils import (
        get_file_task_name,
        get_latest_filename,
        get_results_filenames,
        get_sample_results_filenames,
    )

    files = [p.as_posix() for p in folder.iterdir() if p.is_file()]
    earlier = [f for f in get_results_filenames(files) if not f.endswith(f"_{date_id}.json")]
    if not earlier:
        return {}
    latest = Path(get_latest_filename(earlier))
    try:
        document = json.loads(latest.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON ({exc.msg}, line {exc.lineno})",
                            where=str(latest)) from exc
    present = {get_file_task_name(Path(f).name) for f in get_sample_results_filenames(files)}
    keep = [t for t in document.get("results", {}) if t in present and t not in written]
    return {key: {t: document[key][t] for t in keep if t in document.get(key, {})}
            for key in PER_TASK_KEYS}


def write_results(out_dir: Path, run: ModelRun, date_id: str, results: Sequence[TaskResult], *,
                  started: float) -> Path:
    """`results_<date>.json` over `results` (every task this evaluation wrote so far) and
    the tasks earlier evaluations left samples of (see _carried_over)."""
    from lm_eval.utils import handle_non_serializable

    folder = model_dir(out_dir, run)
    folder.mkdir(parents=True, exist_ok=True)
    document = results_document(run, results, started=started)
    for key, entries in _carried_over(folder, date_id, {r.task for r in results}).items():
        document[key] = {**entries, **document[key]}
    return write_text(folder / f"results_{date_id}.json",
                      json.dumps(document, indent=2, default=handle_non_serializable,
                                 ensure_ascii=False))
