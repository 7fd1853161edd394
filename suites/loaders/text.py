"""Free-text items: clinical notes with reference summaries, held-out medical text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suites.base import GenItem
from suites.loaders.common import check_unique, item_id, iter_rows, require

SUMMARY_INSTRUCTION = ("Summarise the following clinical note in one or two sentences for "
                       "the handover.\n\nNote: {note}\n\nSummary:")


def load_notes(path: Path, options: dict[str, Any] | None = None) -> list[GenItem]:
    """Rows with `note` and reference `summary`; the prompt asks for a summary."""
    template = (options or {}).get("instruction", SUMMARY_INSTRUCTION)
    items = []
    for where, row in iter_rows(path):
        note = require(row, "note", where)
        summary = require(row, "summary", where)
        items.append(GenItem(item_id=item_id(row, where), prompt=template.format(note=note),
                             reference=summary))
    check_unique([i.item_id for i in items], path)
    return items


def load_text(path: Path, options: dict[str, Any] | None = None) -> list[GenItem]:
    """Rows with `text` (and optionally `topic`): the documents perplexity is measured on."""
    items = []
    for where, row in iter_rows(path):
        text = require(row, "text", where)
        meta = {"topic": row["topic"]} if isinstance(row.get("topic"), str) else {}
        items.append(GenItem(item_id=item_id(row, where), prompt=text, meta=meta))
    check_unique([i.item_id for i in items], path)
    return items
