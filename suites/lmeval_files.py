"""lm-evaluation-harness's own files for an evaluation: results JSON and samples JSONL.

`<out>/<model_name_sanitized>/results_<date>.json` and `samples_<task>_<date>.jsonl`, the
folder layout, names and keys of lm-eval's EvaluationTracker (save_results_aggregated,
save_results_samples), so lm-eval's readers (lm_eval.utils get_results_filenames,
get_latest_filename, get_sample_results_filenames, the Zeno visualiser, the tracker's
metadata card) find them. The tasks' numbers come from suites.lmeval_results.

The tracker itself is not used for the writing: it logs and swallows a failed write (a
missing file would pass unnoticed) and appends to samples files; here a failed write
raises, and files are written atomically. lm-eval is imported where it is used, as
elsewhere in suites: importing it is slow.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.core.atomic import write_text
from harness.core.errors import BadInputError
from suites.lmeval_results import BOOTSTRAP_ITERS, TaskResult

# Where an evaluation folder keeps lm-eval's files: evals/<tag>/lm-eval/<model>/...
LMEVAL_DIR = "lm-eval"


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

def new_date_id() -> str:
    """The date part of lm-eval's file names (EvaluationTracker's `date_id`)."""
    return datetime.now().isoformat().replace(":", "-")


def model_dir(out_dir: Path, run: ModelRun) -> Path:
    """`<out_dir>/<model_name_sanitized>`, the folder lm-eval's tracker writes into."""
    from lm_eval.utils import sanitize_model_name

    return Path(out_dir) / sanitize_model_name(run.model_name)

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
