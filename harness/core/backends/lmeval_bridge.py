"""Scoring through lm-evaluation-harness: our items become lm-eval tasks over local files.

Prompt formats are lm-eval's own (medqa_4options, pubmedqa, mmlu, medmcqa), so numbers
compare with published leaderboards and per-item predictions equal lm-eval's on the same
file and model. Items are written as normalised JSONL, loaded by lm-eval through
`dataset_path: json`, and the per-sample log (`log_samples`) becomes our records.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import string
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError, InternalError
from suites.base import MCItem

LETTERS = string.ascii_uppercase


def _medqa_text(doc: dict[str, Any]) -> str:
    # lm_eval/tasks/medqa/preprocess_medqa.py, extended from A-D to as many options as given
    answers = "".join(f"{LETTERS[i]}. {v}\n" for i, v in enumerate(doc["choices"]))
    return f"Question: {doc['question']}\n{answers}Answer:"


def _pubmedqa_text(doc: dict[str, Any]) -> str:
    # lm_eval/tasks/pubmedqa/preprocess_pubmedqa.py (contexts already joined with "\n")
    return "Abstract: {}\nQuestion: {}\nAnswer:".format(doc["context"], doc["question"])


def _mmlu_text(doc: dict[str, Any]) -> str:
    # lm_eval/tasks/mmlu/default/_default_template_yaml's doc_to_text, as Python
    letters = "".join(f"\n{LETTERS[i]}. {c}" for i, c in enumerate(doc["choices"]))
    return f"{doc['question'].strip()}{letters}\nAnswer:"


def _mmlu_description(doc: dict[str, Any]) -> str:
    # lm_eval/tasks/mmlu/_generate_configs.py
    subject = " ".join((doc.get("subject") or "").split("_"))
    return f"The following are multiple choice questions (with answers) about {subject}.\n\n"


def _mmlu_cloze_text(doc: dict[str, Any]) -> str:
    # lm_eval/tasks/mmlu/continuation/_continuation_template_yaml's doc_to_text, as Python
    return f"Question: {doc['question'].strip()}\nAnswer:"


def _mmlu_cloze_description(doc: dict[str, Any]) -> str:
    # lm_eval/tasks/mmlu/continuation/mmlu_*.yaml
    subject = " ".join((doc.get("subject") or "").split("_"))
    return f"The following are questions (with answers) about {subject}.\n\n"


def _medmcqa_text(doc: dict[str, Any]) -> str:
    # lm_eval/tasks/medmcqa/utils_medmcqa.py
    prompt = "Question: " + doc["question"] + "\nChoices:\n"
    for i, option in enumerate(doc["choices"]):
        prompt += f"{LETTERS[i]}. {option}\n"
    return prompt + "Answer:"


@dataclass(frozen=True)
class PromptFormat:
    """How an item is shown and which continuations are scored (lm-eval's task fields).

    A cloze format scores each option's own text as the continuation, not its letter, and
    predicts by log-likelihood per character (lm-eval's `acc_norm`). Small models that
    cannot yet map "A/B/C/D" to an answer sit at chance on the letter formats but do carry
    signal in the option texts; the forgetting measurement needs that signal.
    """

    name: str
    doc_to_text: Callable[[dict[str, Any]], str]
    word_choices: tuple[str, ...] | None = None  # None: letters, one per option
    description: Callable[[dict[str, Any]], str] | None = None
    fewshot_sampler: str | None = None  # lm-eval's default (random) unless named
    cloze: bool = False

    def labels(self, item: MCItem) -> list[str]:
        """What a record's gold/pred are written as: letters, or label words."""
        if self.word_choices is not None:
            return list(self.word_choices)
        return list(LETTERS[: len(item.options)])

    def continuations(self, item: MCItem) -> list[str]:
        """The strings scored after the prompt (lm-eval's doc_to_choice)."""
        return list(item.options) if self.cloze else self.labels(item)

    def predict(self, item: MCItem, logprobs: list[float]) -> int:
        """lm-eval's prediction: `acc` (first maximum), or `acc_norm` for cloze formats."""
        import numpy as np

        values = np.asarray(logprobs, dtype=float)
        if self.cloze:
            values = values / np.array([float(len(c)) for c in self.continuations(item)])
        return int(np.argmax(values))


FORMATS: dict[str, PromptFormat] = {
    "medqa": PromptFormat("medqa", _medqa_text),
    "pubmedqa": PromptFormat("pubmedqa", _pubmedqa_text, word_choices=("yes", "no", "maybe")),
    "mmlu": PromptFormat("mmlu", _mmlu_text, description=_mmlu_description,
                         fewshot_sampler="first_n"),
    "mmlu_cloze": PromptFormat("mmlu_cloze", _mmlu_cloze_text,
                               description=_mmlu_cloze_description, fewshot_sampler="first_n",
                               cloze=True),
    "medmcqa": PromptFormat("medmcqa", _medmcqa_text),
}


def get_format(name: str) -> PromptFormat:
    if name not in FORMATS:
        raise BadInputError(f"unknown prompt format '{name}' (known: {', '.join(FORMATS)})")
    return FORMATS[name]


def to_doc(item: MCItem) -> dict[str, Any]:
    """The normalised row lm-eval reads for an item."""
    return {"item_id": item.item_id, "question": item.question, "choices": list(item.options),
            "answer": item.answer, "context": item.context or "", "subject": item.subject or ""}


def render(item: MCItem, fmt: PromptFormat) -> str:
    """The zero-shot, no-chat prompt lm-eval builds for `item` (description + text)."""
    doc = to_doc(item)
    return (fmt.description(doc) if fmt.description else "") + fmt.doc_to_text(doc)


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


@dataclass
class Scored:
    prompt: str
    logprobs: list[float]


def quiet_lmeval() -> None:
    """lm-eval must not reach for the network, and its INFO logging is not our output."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for name in ("lm-eval", "lm_eval", "lm_eval.evaluator", "lm_eval.api.task"):
        logging.getLogger(name).setLevel(logging.WARNING)


def score_items(lm: Any, items: list[MCItem], fmt: PromptFormat, *, num_fewshot: int = 0,
                apply_chat_template: bool = False, seed: int = 1234) -> list[Scored]:
    """Per-item (prompt, choice log-likelihoods) from lm-eval's evaluator, in item order."""
    if not items:
        return []
    quiet_lmeval()
    from lm_eval import evaluator
    from lm_eval.tasks import TaskManager

    docs = [to_doc(i) for i in items]
    if fmt.description is not None:
        for doc in docs:
            doc["description"] = fmt.description(doc)
    digest = hashlib.sha256(json.dumps(docs, sort_keys=True).encode()).hexdigest()[:12]
    task = f"medgate_{fmt.name}_{digest}"
    with tempfile.TemporaryDirectory(prefix="medgate-lmeval-") as tmp:
        data_file = Path(tmp) / f"{task}.jsonl"
        data_file.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs),
                             encoding="utf-8")
        results = evaluator.simple_evaluate(
            model=lm, tasks=[task_config(task, data_file, fmt)],
            task_manager=TaskManager(include_defaults=False), num_fewshot=num_fewshot or None,
            apply_chat_template=apply_chat_template, log_samples=True, bootstrap_iters=0,
            random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed,
            fewshot_random_seed=seed)
    return samples_to_scored(results["samples"][task], [i.item_id for i in items])


def samples_to_scored(samples: list[dict[str, Any]], item_ids: list[str]) -> list[Scored]:
    """lm-eval's logged samples, re-ordered to `item_ids` (doc_id is the row index)."""
    by_doc = {s["doc_id"]: s for s in samples}
    out = []
    for index, item_id in enumerate(item_ids):
        sample = by_doc.get(index)
        if sample is None or sample["doc"].get("item_id", item_id) != item_id:
            raise InternalError(f"lm-eval returned no sample for item '{item_id}'")
        prompt = sample["arguments"][0][0]
        logprobs = [float(resp[0]) for resp in sample["filtered_resps"]]
        out.append(Scored(prompt=prompt, logprobs=logprobs))
    return out


def predictions(samples: list[dict[str, Any]], *, normalised: bool = False) -> dict[int, int]:
    """doc_id -> argmax choice index: lm-eval's own `acc` (or `acc_norm`) prediction."""
    import numpy as np

    out = {}
    for s in samples:
        lls = np.array([r[0] for r in s["filtered_resps"]], dtype=float)
        if normalised:
            lls = lls / np.array([float(len(c)) for c in s["doc"]["choices"]])
        out[s["doc_id"]] = int(np.argmax(lls))
    return out


def rolling_loglikelihood(lm: Any, texts: list[str]) -> list[tuple[float, int]]:
    """(log-likelihood sum, tokens) per text via lm-eval's rolling windows."""
    quiet_lmeval()
    from lm_eval.api.instance import Instance

    requests = [Instance(request_type="loglikelihood_rolling", doc={}, arguments=(text,), idx=i)
                for i, text in enumerate(texts)]
    sums = lm.loglikelihood_rolling(requests, disable_tqdm=True)
    return [(float(s), len(lm.tok_encode(t))) for s, t in zip(sums, texts, strict=True)]


def generate_until(lm: Any, prompts: list[str], max_new_tokens: int) -> list[str]:
    """Greedy generation through lm-eval's own request path (used for vLLM)."""
    from lm_eval.api.instance import Instance

    kwargs = {"until": [], "max_gen_toks": max_new_tokens, "do_sample": False, "temperature": 0}
    requests = [Instance(request_type="generate_until", doc={}, arguments=(p, dict(kwargs)), idx=i)
                for i, p in enumerate(prompts)]
    return list(lm.generate_until(requests, disable_tqdm=True))
