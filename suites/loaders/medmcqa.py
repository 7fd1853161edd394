"""MedMCQA: `question`, `opa`..`opd`, `cop` (the correct option).

The two published forms count `cop` differently, and a file alone cannot say which it
uses (a 0-based file without a `cop` of 0, or a 1-based one without a 4, reads either
way), so the convention is an option, never a guess: `cop_base` 0 for the Hugging Face
dataset openlifescienceai/medmcqa that lm-eval's medmcqa task scores (cop 0..3), 1 for
the original MedMCQA JSON release (cop 1..4). A `cop` outside the declared range, or not
an integer, is bad input naming the file, the row and the option to set. Digits written
as text are read as integers (a CSV cell is always text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from harness.core.errors import BadInputError
from suites.base import MCItem
from suites.loaders.common import check_unique, digits_as_int, item_id, iter_rows, require

FIELDS = ("opa", "opb", "opc", "opd")
DEFAULT_COP_BASE = 0
# The options this loader reads, as the suite registry validates them ({name: type}).
# A strict int (validated strictly, True and 1.0 are refused) of 0 or 1.
OPTIONS: dict[str, Any] = {"cop_base": Annotated[int, Field(ge=0, le=1)]}
OPTION_KEY = "evaluation.suite_options.medmcqa.cop_base"
SOURCES = {0: "the Hugging Face dataset openlifescienceai/medmcqa, as lm-eval scores it",
           1: "the original MedMCQA JSON release"}


def cop_base(options: dict[str, Any] | None) -> int:
    """The declared index base of `cop` (0 unless the options say 1)."""
    base = (options or {}).get("cop_base", DEFAULT_COP_BASE)
    if type(base) is not int or base not in SOURCES:
        raise BadInputError(f"option 'cop_base' must be 0 or 1, got {base!r}", where=OPTION_KEY)
    return base


def answer_index(value: Any, base: int, where: str) -> int:
    """The 0-based option index of a row's `cop` under `base`; anything else is bad input
    that says which convention was declared and how to declare the other."""
    cop = digits_as_int(value) if isinstance(value, str) else value
    other = 1 - base
    hint = (f"cop_base is {base} ({SOURCES[base]}: cop {base}..{base + 3}); a file from "
            f"{SOURCES[other]} counts {other}..{other + 3}: set the suite option cop_base: "
            f"{other} ({OPTION_KEY}, or the spec's options)")
    if not isinstance(value, (int, str)) or isinstance(value, bool):
        raise BadInputError(f"field 'cop' must be an integer option number, got "
                            f"{type(value).__name__}; {hint}", where=where)
    if type(cop) is not int:
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise BadInputError(f"answer key 'cop'={shown} is not an integer option number; "
                            f"{hint}", where=where)
    if not base <= cop <= base + 3:
        raise BadInputError(f"answer key 'cop'={cop} is outside {base}..{base + 3}; {hint}",
                            where=where)
    return cop - base


def load(path: Path, options: dict[str, Any] | None = None) -> list[MCItem]:
    base = cop_base(options)
    items = []
    for where, row in iter_rows(path):
        question = require(row, "question", where)
        texts = tuple(require(row, f, where) for f in FIELDS)
        if row.get("cop") is None:
            raise BadInputError("missing field 'cop'", where=where)
        index = answer_index(row["cop"], base, where)
        meta = {"cop_index_base": base}
        if row.get("subject_name"):
            meta["subject_name"] = row["subject_name"]
        items.append(MCItem(item_id=item_id(row, where), question=question, options=texts,
                            answer=index, meta=meta))
    check_unique([i.item_id for i in items], path)
    return items
