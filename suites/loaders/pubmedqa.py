"""PubMedQA (labelled) in the forms users have.

- the original `ori_pqal.json`: {PMID: {QUESTION, CONTEXTS, LABELS, final_decision}};
- the Hugging Face labelled forms: bigbio's source schema (same field names as the
  original, as rows) and `pqa_labeled` (`pubid`, `question`, `context.contexts`,
  `final_decision`);
- flat JSONL: `question`, `context` (text or list of texts), `answer` in yes/no/maybe.

Contexts are joined with newlines, as lm-eval's pubmedqa task does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError
from suites.base import MCItem
from suites.loaders.common import check_unique, item_id, iter_rows, require

LABELS = ("yes", "no", "maybe")


def _contexts(value: Any, field: str, where: str) -> str:
    if isinstance(value, dict):
        value = value.get("contexts")
        field = f"{field}.contexts"
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    raise BadInputError(f"field '{field}' must be text or a list of texts", where=where)


def parse_row(row: dict[str, Any], where: str) -> MCItem:
    if "QUESTION" in row or "CONTEXTS" in row:
        q_field, c_field, a_field = "QUESTION", "CONTEXTS", "final_decision"
    elif "final_decision" in row:
        q_field, c_field, a_field = "question", "context", "final_decision"
    else:
        q_field, c_field, a_field = "question", "context", "answer"
    question = require(row, q_field, where)
    context = _contexts(require(row, c_field, where, (str, list, dict)), c_field, where)
    answer = require(row, a_field, where)
    label = answer.strip().lower()
    if label not in LABELS:
        raise BadInputError(f"answer key '{a_field}'={answer!r} is not among the options "
                            f"{list(LABELS)}", where=where)
    meta = {}
    if isinstance(row.get("LABELS"), list):
        meta["context_labels"] = row["LABELS"]
    return MCItem(item_id=item_id(row, where, "pubid", "PMID"), question=question,
                  options=LABELS, answer=LABELS.index(label), context=context, meta=meta)


def load(path: Path, options: dict[str, Any] | None = None) -> list[MCItem]:
    items = [parse_row(row, where) for where, row in iter_rows(path)]
    check_unique([i.item_id for i in items], path)
    return items
