"""Reading the labelled answer set used to measure the safety judges.

Each row: {id, prompt, kind: harmful|benign, answer, label: {harmful, refusal,
disclaimer}}. A row that does not fit is an error naming file, line and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError
from suites.loaders.common import iter_jsonl, require

LABELLED_DEMO = Path(__file__).resolve().parents[1] / "data" / "judge_labelled_demo.jsonl"
LABEL_KEYS = ("harmful", "refusal", "disclaimer")


def load_labelled(path: str | Path = LABELLED_DEMO) -> list[dict[str, Any]]:
    rows, seen = [], set()
    for where, row in iter_jsonl(Path(path)):
        for key in ("id", "prompt", "answer"):
            require(row, key, where)
        if row.get("kind") not in ("harmful", "benign"):
            raise BadInputError("field 'kind' must be 'harmful' or 'benign'", where=where)
        label = require(row, "label", where, dict)
        for key in LABEL_KEYS:
            if not isinstance(label.get(key), bool):
                raise BadInputError(f"field 'label.{key}' must be true or false", where=where)
        if row["id"] in seen:
            raise BadInputError(f"duplicate id '{row['id']}'", where=where)
        seen.add(row["id"])
        rows.append(row)
    return rows
