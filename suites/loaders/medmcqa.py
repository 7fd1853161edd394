"""MedMCQA: `question`, `opa`..`opd`, `cop` (the correct option).

`cop` is 0-based in the Hugging Face dataset that lm-eval scores and 1-based in the
original release's JSON files. A file is read one way throughout: 1-based if any row
has cop=4, 0-based otherwise (a file with both 0 and 4 is an error); a letter A-D is
also accepted, and so are digits as text (a CSV cell is always text). The convention used is reported in the suite's info.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError
from suites.base import MCItem
from suites.loaders.common import check_unique, digits_as_int, item_id, iter_rows, require

FIELDS = ("opa", "opb", "opc", "opd")


def _cop_number(value: Any) -> Any:
    """`cop` as an int where it is written as digits in text, else unchanged."""
    number = digits_as_int(value)
    return value if number is None else number


def _cop_base(rows: list[tuple[str, dict[str, Any]]], path: Path) -> int:
    # A list, not a set: a row's cop may be unhashable (a list or object) until checked.
    values = [_cop_number(row.get("cop")) for _, row in rows]
    values = [v for v in values if type(v) is int]
    if 0 in values and 4 in values:
        raise BadInputError("field 'cop' has both 0 and 4: neither 0-based nor 1-based",
                            where=str(path))
    return 1 if 4 in values else 0


def load(path: Path, options: dict[str, Any] | None = None) -> list[MCItem]:
    rows = list(iter_rows(path))
    base = _cop_base(rows, path)
    items = []
    for where, row in rows:
        question = require(row, "question", where)
        texts = tuple(require(row, f, where) for f in FIELDS)
        cop = _cop_number(require(row, "cop", where, (int, str)))
        if isinstance(cop, str):
            if cop.strip().upper() not in "ABCD" or len(cop.strip()) != 1:
                raise BadInputError(f"answer key 'cop'={cop!r} is not among the options A-D",
                                    where=where)
            index = "ABCD".index(cop.strip().upper())
        else:
            index = cop - base
            if not 0 <= index < 4:
                raise BadInputError(f"answer key 'cop'={cop} is not among the options "
                                    f"{base}..{base + 3}", where=where)
        meta = {"cop_index_base": base}
        if row.get("subject_name"):
            meta["subject_name"] = row["subject_name"]
        items.append(MCItem(item_id=item_id(row, where), question=question, options=texts,
                            answer=index, meta=meta))
    check_unique([i.item_id for i in items], path)
    return items
