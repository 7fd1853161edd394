"""The model card's `model-index`: each result names the dataset it was measured on.

Hugging Face's model-index (the Hub's model card metadata; leaderboards read it) gives a
result's dataset as a hub id (`type`), a pretty `name`, and the `config` and `split`
given to `load_dataset`. A suite's result names:

- the hub dataset itself when the suite read one (`hf:ID[:CONFIG][@SPLIT]`);
- else, when the suite reproduces an lm-eval task on a local file, lm-eval's dataset for
  that task (`lmeval_dataset`) with the task as `config`, and the file actually scored
  and its sha256 under `args` (`data_file`, `data_file_sha256`): the numbers come from
  that file, which may be any copy or subset of the benchmark;
- demo data as demo data, never under a real dataset's name.

Each result's `source` names medgate and the run (its url is the evaluation's
summary.json, relative to the card). The entries are made by huggingface_hub's own
EvalResult and eval_results_to_model_index, so their shape is the Hub's.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from harness.core.summaries import SuiteInfo
from suites.loaders import HUB_PREFIX

HF_TASK = {"pubmedqa": "question-answering"}
DEFAULT_TASK = "multiple-choice"


def hub_source(data: str) -> dict[str, str | None]:
    """`hf:ID[:CONFIG][@SPLIT]` as a model-index dataset (split: test, as the loader reads)."""
    source, _, split = data[len(HUB_PREFIX):].partition("@")
    dataset, _, config = source.partition(":")
    return {"type": dataset, "name": dataset, "config": config or None, "split": split or "test"}


def dataset_entry(suite: str, info: SuiteInfo, demo: bool,
                  lmeval_task: str | None = None,
                  lmeval_dataset: str | None = None) -> dict[str, Any]:
    """A suite's model-index dataset: type, name, config, split and args (None: absent).

    `lmeval_task` is the one lm-eval task the result is on (for a suite written as one
    task per subject, the subject's task), None where the result spans several tasks.
    """
    data = info.data or info.extra.get("path")
    file_args = {"data_file": PurePath(str(data)).name if data else None,
                 "data_file_sha256": info.data_sha256 or info.extra.get("sha256")}
    if demo:
        return {"type": f"medgate-demo-{suite}",
                "name": f"{suite} demo data (written for medgate; not a benchmark)",
                "config": None, "split": None, "args": {**file_args, "demo": True}}
    if isinstance(data, str) and data.startswith(HUB_PREFIX):
        return {**hub_source(data), "args": None}
    tasks = info.extra.get("lmeval_tasks") or []
    if lmeval_dataset:
        config = lmeval_task or (tasks[0] if len(tasks) == 1 else None)
        args = {**file_args, **({"lmeval_tasks": tasks} if config is None and tasks else {})}
        return {"type": lmeval_dataset, "name": f"{lmeval_dataset} ({config or suite}, local file)",
                "config": config, "split": None, "args": args}
    return {"type": suite, "name": f"{suite} ({file_args['data_file'] or 'no data file'})",
            "config": None, "split": None, "args": file_args}


def model_index(title: str, rows: list[dict[str, Any]], infos: dict[str, SuiteInfo], *,
                run_id: str, tag: str | None) -> list[dict[str, Any]]:
    """The model-index of the card's result rows (suite, metric, value, demo).

    A metric `<name>.<subject>` of a suite written as one lm-eval task per subject is a
    result on that subject's task; the suite's other metrics are results on the suite.
    """
    from huggingface_hub import EvalResult
    from huggingface_hub.repocard_data import eval_results_to_model_index

    source = {"source_name": f"medgate run {run_id} ({tag or 'not evaluated'})",
              "source_url": f"../evals/{tag}/summary.json" if tag else "../evals"}
    groups: dict[tuple[str, str], list[EvalResult]] = {}
    for row in rows:
        if row["value"] is None or row["metric"] == "answer_spread":  # not a score
            continue
        suite, metric = row["suite"], row["metric"]
        info = infos.get(suite) or SuiteInfo()
        template, dataset = info.extra.get("lmeval_task"), info.extra.get("lmeval_dataset")
        task = None
        if isinstance(template, str) and "{subject}" in template and "." in metric:
            candidate = template.format(subject=metric.split(".", 1)[1])
            task = candidate if candidate in (info.extra.get("lmeval_tasks") or []) else None
        entry = dataset_entry(suite, info, row["demo"], task, dataset)
        groups.setdefault((suite, task or ""), []).append(EvalResult(
            task_type=HF_TASK.get(suite, DEFAULT_TASK), task_name=suite,
            dataset_type=entry["type"], dataset_name=entry["name"],
            dataset_config=entry["config"], dataset_split=entry["split"],
            dataset_args=entry["args"], metric_type=metric, metric_value=round(row["value"], 4),
            metric_name=f"{suite} {metric}", verified=False, **source))
    # one result per suite (and lm-eval task): the library would merge two suites that
    # name the same dataset and config into one result, losing the second one's data file
    results = [result for group in groups.values()
               for result in eval_results_to_model_index(title, group)[0]["results"]]
    return [{"name": title, "results": results}]
