"""MedQA (USMLE) in the two forms users have.

- the original JSONL of the 4- and 5-option sets: `question`, `options` {A..D or A..E},
  `answer_idx` (a letter) and optionally `answer` (the option text);
- the Hugging Face form used by lm-eval's medqa_4options: `sent1`, `ending0..3`, `label`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError
from suites.base import LETTERS, MCItem
from suites.loaders.common import check_unique, digits_as_int, item_id, iter_rows, require


def parse_row(row: dict[str, Any], where: str) -> MCItem:
    if "sent1" in row or "ending0" in row:
        return _parse_endings(row, where)
    question = require(row, "question", where)
    options = require(row, "options", where, (dict, list))
    if isinstance(options, list):
        if len(options) > len(LETTERS):
            raise BadInputError(f"field 'options' has {len(options)} options; at most "
                                f"{len(LETTERS)} (A-Z) are supported", where=where)
        options = {LETTERS[i]: text for i, text in enumerate(options)}
    keys = sorted(options)
    if len(keys) < 2:
        raise BadInputError("field 'options' needs at least two options", where=where)
    if keys != list(LETTERS[: len(keys)]):
        raise BadInputError(f"field 'options' keys must be A, B, C... in order, got {keys}",
                            where=where)
    texts = []
    for key in keys:
        if not isinstance(options[key], str) or not options[key].strip():
            raise BadInputError(f"field 'options.{key}' must be non-empty text", where=where)
        texts.append(options[key])
    answer_idx = require(row, "answer_idx", where)
    if answer_idx not in options:
        raise BadInputError(f"answer key 'answer_idx'={answer_idx!r} is not among the options "
                            f"{keys}", where=where)
    answer = row.get("answer")
    if isinstance(answer, str) and answer.strip() and answer.strip() != options[answer_idx].strip():
        raise BadInputError(f"field 'answer' ({answer!r}) is not the text of option "
                            f"{answer_idx} ({options[answer_idx]!r})", where=where)
    meta = {k: row[k] for k in ("meta_info", "dangerous_options") if k in row}
    return MCItem(item_id=item_id(row, where), question=question, options=tuple(texts),
                  answer=keys.index(answer_idx), meta=meta)


def _parse_endings(row: dict[str, Any], where: str) -> MCItem:
    question = require(row, "sent1", where)
    texts = []
    for i in range(len(LETTERS)):
        field = f"ending{i}"
        if field not in row:
            break
        texts.append(require(row, field, where))
    if len(texts) < 2:
        raise BadInputError("needs fields 'ending0', 'ending1', ...", where=where)
    read = {f"ending{i}" for i in range(len(texts))}
    skipped = sorted(k for k in row if k not in read and re.fullmatch(r"ending\d+", str(k)))
    if skipped:  # ending3 without ending2 would otherwise be left out unseen
        raise BadInputError(f"field(s) {skipped} given but 'ending{len(texts)}' is missing",
                            where=where)
    label = require(row, "label", where, (int, str))
    if isinstance(label, str):  # a CSV cell is always text
        number = digits_as_int(label)
        if number is None:
            raise BadInputError(f"field 'label' must be an option index, got {label!r}",
                                where=where)
        label = number
    if not 0 <= label < len(texts):
        raise BadInputError(f"answer key 'label'={label} is not among the options "
                            f"0..{len(texts) - 1}", where=where)
    return MCItem(item_id=item_id(row, where), question=question, options=tuple(texts),
                  answer=label)


def load(path: Path, options: dict[str, Any] | None = None) -> list[MCItem]:
    items = [parse_row(row, where) for where, row in iter_rows(path)]
    check_unique([i.item_id for i in items], path)
    return items
