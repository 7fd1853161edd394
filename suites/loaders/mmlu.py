"""MMLU: subject, question, four choices, answer as index or letter.

Accepted rows: the Hugging Face `cais/mmlu` form (`subject`, `question`, `choices`,
`answer`) in JSON, JSONL or Parquet, rows with `A`..`D` fields instead of `choices`, and
the original release's header-less CSV files (`<subject>_test.csv`: question, A, B, C,
D, answer letter; the subject, which lm-eval's per-subject prompt names, is taken from
the file name).

A folder is read as a whole, as the benchmark is published: the original release's
`data/test/` (or `data/`) with its `<subject>_test.csv` files, or a folder of the hub's
Parquet files (cais/mmlu's `<subject>/test-*.parquet`, or `all/test-*.parquet`) — the
test split, which lm-eval's mmlu tasks score. Item ids without an id column are the row's
place relative to the folder (`anatomy_test.csv:3`, `anatomy/test-00000-of-00001.parquet[2]`),
unique across subjects. A spec may restrict the subjects (`options.subjects`); rows of
other subjects are counted and reported by the suite, not scored.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
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


def _load_file(path: Path) -> list[MCItem]:
    if path.suffix.lower() == ".csv":
        first = _open_text(path).splitlines()[:1]
        header = first and "question" in first[0].lower().split(",")
        rows = iter_rows(path) if header else _iter_original_csv(path)
    else:
        rows = iter_rows(path)
    return [parse_row(row, where) for where, row in rows]


# The test split in each published folder layout (the split lm-eval's mmlu tasks score).
FOLDER_PATTERNS = ("*_test.csv", "test-*.parquet")


def folder_files(folder: Path) -> list[Path]:
    """The test-split files of an MMLU folder, in a stable order; an error when none is
    there, or when cais/mmlu's `all/` (every subject) sits beside per-subject folders,
    which would score each question twice."""
    files = sorted({p for pattern in FOLDER_PATTERNS for p in folder.rglob(pattern)
                    if p.is_file()})
    if not files:
        raise BadInputError("no MMLU test files in the folder (expected the original "
                            "release's <subject>_test.csv files, or cais/mmlu's "
                            "<subject>/test-*.parquet)", where=str(folder))
    in_all = [p for p in files if p.parent.name == "all"]
    if in_all and len(in_all) < len(files):
        raise BadInputError("the folder holds cais/mmlu's all/ (every subject) and "
                            "per-subject files, which would score each question twice: "
                            f"pass {in_all[0].parent} or a folder without it",
                            where=str(folder))
    return files


def _load_folder(folder: Path) -> list[MCItem]:
    items = []
    for path in folder_files(folder):
        relative = path.relative_to(folder).as_posix()
        for item in _load_file(path):
            # an id taken from the row's place names the file within the folder: every
            # subject's Parquet file of cais/mmlu is called test-00000-of-00001.parquet
            place = item.item_id.startswith(path.name)
            items.append(replace(item, item_id=relative + item.item_id[len(path.name):])
                         if place else item)
    return items


def load(path: Path, options: dict[str, Any] | None = None) -> list[MCItem]:
    items = _load_folder(path) if path.is_dir() else _load_file(path)
    check_unique([i.item_id for i in items], path)
    return items
