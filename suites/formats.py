"""Prompt formats: lm-evaluation-harness's own tasks for MedQA, PubMedQA, MMLU and MedMCQA.

Each format is the Python twin of an lm-eval task's fields (doc_to_text, doc_to_choice,
description, few-shot sampler), so numbers compare with published leaderboards and
per-item predictions equal lm-eval's on the same file and model
(tests/suites/test_suite_lmeval_equality.py). Zero-shot prompts without a chat template
are rendered here; few-shot and chat prompts are built by lm-eval's own task machinery
from the same fields (suites.lmeval_tasks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.core.errors import BadInputError
from suites.base import LETTERS, MCItem

TARGET_DELIMITER = " "  # lm-eval's default between a prompt and each scored choice


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


def zero_shot_requests(item: MCItem, fmt: PromptFormat) -> list[tuple[str, str]]:
    """lm-eval's (context, continuation) requests for `item`, zero-shot and without a chat
    template: the rendered prompt and each choice after the target delimiter."""
    context = render(item, fmt)
    return [(context, TARGET_DELIMITER + choice) for choice in fmt.continuations(item)]
