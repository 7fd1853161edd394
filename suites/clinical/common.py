"""What the clinical suites share: rows read with errors naming file, line and field,
prompts rendered by the task templates, and one generation call per suite."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.backends import GenerationSettings, ModelHandle
from harness.core.errors import BadInputError
from suites.base import RunContext
from suites.clinical.templates import get_template, prompt
from suites.loaders.common import iter_jsonl


@dataclass(frozen=True)
class TaskItem:
    """One templated item: its prompt, the record it came from, and the reference answer
    where the task has one."""

    item_id: str
    prompt: str
    record: dict[str, Any] = field(hash=False, compare=False)
    reference: str | None = None


def read_task_items(path: Path, template_name: str, reference: str | None) -> list[TaskItem]:
    """Rows of a JSONL file rendered by the template; `reference` names the answer field
    (required when given)."""
    template = get_template(template_name)
    items: list[TaskItem] = []
    for where, row in iter_jsonl(path):
        item_id = row.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise BadInputError("field 'id' must be a non-empty string", where=where)
        ref = None
        if reference is not None:
            ref = row.get(reference)
            if not isinstance(ref, str) or not ref.strip():
                raise BadInputError(f"field '{reference}' is missing or empty", where=where)
        if any(i.item_id == item_id for i in items):
            raise BadInputError(f"item id '{item_id}' appears twice", where=where)
        items.append(TaskItem(item_id, prompt(template, row, where), row, ref))
    return items


def generate(model: ModelHandle, prompts: list[str], ctx: RunContext) -> list[str]:
    """Greedy answers, through the model's chat template unless the `chat` option is off
    (the training rows are chat turns: finetune.formatting)."""
    settings = GenerationSettings(max_new_tokens=ctx.max_new_tokens,
                                  chat_template=bool(ctx.options.get("chat", True)))
    return model.generate(prompts, settings)
