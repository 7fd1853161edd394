"""MMLU: subject, question, four choices, answer as index or letter.

Accepted rows: the Hugging Face `cais/mmlu` form (`subject`, `question`, `choices`,
`answer`), rows with `A`..`D` fields instead of `choices`, and the original release's
header-less CSV files (`<subject>_test.csv`: question, A, B, C, D, answer letter).
A spec may restrict the subjects (`options.subjects`); rows of other subjects are
counted and reported by the suite, not scored.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError
from suites.base import LETTERS, MCItem
from suites.loaders.common import (
    _open_text,
    check_unique,
    csv_records,
    item_id,
    iter_rows,
    require,
)

COLUMNS = LETTERS[:4]  # MMLU has four options, A-D


def _answer(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise BadInputError("field 'answer' must be an index 0-3 or a letter A-D", where=where)
    if isinstance(value, int):
        if 0 <= value < 4:
            return value
    elif isinstance(value, str) and value.strip().upper() in COLUMNS and len(value.strip()) == 1:
        return COLUMNS.index(value.strip().upper())
    elif isinstance(value, str) and value.strip() in ("0", "1", "2", "3"):
        return int(value)
    raise BadInputError(f"answer key 'answer'={value!r} is not among the options 0-3 / A-D",
                        where=where)


def parse_row(row: dict[str, Any], where: str, subject: str | None = None) -> MCItem:
    question = require(row, "question", where)
    if "choices" in row:
        choices = require(row, "choices", where, list)
        if len(choices) != 4:
            raise BadInputError(f"field 'choices' must have 4 options, got {len(choices)}",
                                where=where)
        for i, text in enumerate(choices):
            if not isinstance(text, str | int | float) or str(text).strip() == "":
                raise BadInputError(f"field 'choices[{i}]' must be non-empty text", where=where)
        texts = tuple(str(c) for c in choices)
    else:
        texts = tuple(str(require(row, letter, where, (str, int, float))) for letter in COLUMNS)
    if "answer" not in row or row["answer"] is None:
        raise BadInputError("missing field 'answer'", where=where)
    subj = row.get("subject") or subject
    if not isinstance(subj, str) or not subj.strip():
        raise BadInputError("missing field 'subject'", where=where)
    return MCItem(item_id=item_id(row, where), question=question, options=texts,
                  answer=_answer(row["answer"], where), subject=subj.strip())


def _iter_original_csv(path: Path):
    subject = path.stem
    for suffix in ("_test", "_dev", "_val"):
        subject = subject.removesuffix(suffix)
    reader = csv.reader(io.StringIO(_open_text(path), newline=""))
    for where, cells in csv_records(reader, path):
        if len(cells) != 6:
            raise BadInputError(f"expected 6 columns (question, A, B, C, D, answer), got "
                                f"{len(cells)}", where=where)
        row = {"question": cells[0], "A": cells[1], "B": cells[2], "C": cells[3],
               "D": cells[4], "answer": cells[5], "subject": subject}
        yield where, row


def load(path: Path, options: dict[str, Any] | None = None) -> list[MCItem]:
    if path.suffix.lower() == ".csv":
        first = _open_text(path).splitlines()[:1]
        header = first and "question" in first[0].lower().split(",")
        rows = iter_rows(path) if header else _iter_original_csv(path)
    else:
        rows = iter_rows(path)
    items = [parse_row(row, where) for where, row in rows]
    check_unique([i.item_id for i in items], path)
    return items
