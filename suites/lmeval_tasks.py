"""Requests built by lm-evaluation-harness's own task machinery, for few-shot and chat prompts.

Few-shot examples are drawn, and chat turns laid out, by lm-eval itself: our items are
written as normalised JSONL, a task config over that file (the format's doc_to_text,
doc_to_choice, description and few-shot sampler) is loaded by lm-eval's TaskManager into
the same ConfigurableTask its evaluator would run, and the task's `build_all_requests`
(its `fewshot_context` and `construct_requests`) makes the (context, continuation)
requests, with the settings lm-eval's `simple_evaluate` applies. The model only answers
them, so the prompts are lm-eval's by construction.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.backends.lmeval_bridge import quiet_lmeval
from harness.core.errors import InternalError
from suites.base import LETTERS, MCItem
from suites.formats import PromptFormat, to_doc

ChatTemplate = Callable[..., str]


def _doc_to_choice(fmt: PromptFormat) -> list[str] | Callable[[dict[str, Any]], list[str]]:
    if fmt.cloze:
        return lambda doc: list(doc["choices"])
    if fmt.word_choices is not None:
        return list(fmt.word_choices)
    return lambda doc: list(LETTERS[: len(doc["choices"])])


def task_config(task: str, data_file: Path, fmt: PromptFormat) -> dict[str, Any]:
    """An lm-eval task over a local JSONL file, with the format's text/choice/target."""
    config: dict[str, Any] = {
        "task": task,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data_file)}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": fmt.doc_to_text,
        "doc_to_choice": _doc_to_choice(fmt),
        "doc_to_target": "answer",
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
    }
    if fmt.fewshot_sampler:
        config["fewshot_config"] = {"sampler": fmt.fewshot_sampler}
    if fmt.description is not None:
        config["description"] = "description"  # a doc field: lm-eval reads doc["description"]
    return config


def task_docs(items: list[MCItem], fmt: PromptFormat) -> list[dict[str, Any]]:
    """The rows lm-eval's task reads for `items`: the normalised doc, and the format's
    description as a field where the format has one (the task config names that field)."""
    docs = [to_doc(i) for i in items]
    if fmt.description is not None:
        for doc in docs:
            doc["description"] = fmt.description(doc)
    return docs


def task_requests(items: list[MCItem], fmt: PromptFormat, *, num_fewshot: int = 0,
                  chat_template: ChatTemplate | None = None,
                  seed: int = 1234) -> list[list[tuple[str, str]]]:
    """Per item, in item order, the (context, continuation) requests lm-eval's task builds.

    `chat_template` is the model's (`ModelHandle.apply_chat_template`); None means no chat
    template. Few-shot examples come from the other items, drawn with `seed` as lm-eval's
    `fewshot_random_seed`; multi-turn few-shot is lm-eval's default with a chat template.
    """
    if not items:
        return []
    quiet_lmeval()
    from lm_eval.tasks import TaskManager

    docs = task_docs(items, fmt)
    digest = hashlib.sha256(json.dumps(docs, sort_keys=True).encode()).hexdigest()[:12]
    name = f"medgate_{fmt.name}_{digest}"
    with tempfile.TemporaryDirectory(prefix="medgate-lmeval-") as tmp:
        data_file = Path(tmp) / f"{name}.jsonl"
        data_file.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs),
                             encoding="utf-8")
        task = TaskManager(include_defaults=False).load([task_config(name, data_file, fmt)])
        task = task["tasks"][name]
        # what simple_evaluate does to a task before its evaluator builds the requests
        task.set_config(key="num_fewshot", value=num_fewshot)
        task.set_fewshot_seed(seed=seed)
        task.build_all_requests(limit=None, rank=0, world_size=1,
                                apply_chat_template=chat_template is not None,
                                fewshot_as_multiturn=True, chat_template=chat_template)
    by_doc: dict[int, list[Any]] = {}
    for instance in task.instances:
        by_doc.setdefault(instance.doc_id, []).append(instance)
    out = []
    for index, item in enumerate(items):
        found = sorted(by_doc.get(index, []), key=lambda inst: inst.idx)
        if len(found) != len(fmt.continuations(item)) or found[0].doc.get("item_id") != item.item_id:
            raise InternalError(f"lm-eval built {len(found)} request(s) for item "
                                f"'{item.item_id}', not one per choice")
        out.append([(inst.arguments[0], inst.arguments[1]) for inst in found])
    return out


def predictions(samples: list[dict[str, Any]], *, normalised: bool = False) -> dict[int, int]:
    """doc_id -> argmax choice index from lm-eval's logged samples: lm-eval's own `acc`
    (or `acc_norm`) prediction, for comparing ours with it."""
    out = {}
    for s in samples:
        lls = np.array([r[0] for r in s["filtered_resps"]], dtype=float)
        if normalised:
            lls = lls / np.array([float(len(c)) for c in s["doc"]["choices"]])
        out[s["doc_id"]] = int(np.argmax(lls))
    return out
