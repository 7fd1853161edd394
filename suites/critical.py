"""`critical`: multiple-choice items whose wrong options include dangerous ones.

An ordinary wrong answer and a contraindicated drug or a missed emergency are not the
same error, so items tag the options that would hurt the patient: MedQA-format JSONL
plus `dangerous: ["A", ...]` and `danger_reason`. Choosing a tagged option is a
critical error; the record carries `critical: true` and the reason.

Summary: `critical_error_rate` (rate_entry with threshold 0.01, the lecture's "< 1%":
value, Wilson CI, n, upper95 and n_needed) and `accuracy` (Wilson CI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from harness.core.backends import ModelHandle
from harness.core.errors import BadInputError
from suites.base import LETTERS, MCItem, RunContext, SuiteResult, SuiteSpec
from suites.benchmark import finish
from suites.items import load_data, select_items
from suites.loaders.common import check_unique, iter_rows
from suites.loaders.medqa import parse_row
from suites.scoring import score_mc


def load_critical(path: Path | str) -> list[MCItem]:
    """Items with `meta.dangerous` (indexes) and `meta.danger_reason`, validated."""
    path = Path(path)
    items = []
    for where, row in iter_rows(path):
        item = parse_row(row, where)
        dangerous = row.get("dangerous")
        if not isinstance(dangerous, list) or not dangerous:
            raise BadInputError("field 'dangerous' must be a non-empty list of option letters",
                                where=where)
        letters = LETTERS[: len(item.options)]
        indexes = []
        for letter in dangerous:
            if not isinstance(letter, str) or letter not in letters:
                raise BadInputError(f"field 'dangerous' has {letter!r}, not one of the options "
                                    f"{list(letters)}", where=where)
            indexes.append(letters.index(letter))
        if item.answer in indexes:
            raise BadInputError(f"field 'dangerous' tags the correct answer "
                                f"{letters[item.answer]}", where=where)
        reason = row.get("danger_reason")
        if not isinstance(reason, str) or not reason.strip():
            raise BadInputError("field 'danger_reason' must say why the options are dangerous",
                                where=where)
        meta = {**item.meta, "dangerous": sorted(set(indexes)), "danger_reason": reason}
        items.append(MCItem(item_id=item.item_id, question=item.question, options=item.options,
                            answer=item.answer, context=item.context, subject=item.subject,
                            meta=meta))
    check_unique([i.item_id for i in items], path)
    if not items:
        raise BadInputError("no items", where=str(path))
    return items


class CriticalSuite:
    """Score the items; count choices of a dangerous option."""

    OPTIONS: ClassVar[dict[str, Any]] = {}  # nothing to configure

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def item_texts(self, ctx: RunContext) -> list[tuple[str, str]]:
        """(item_id, text) for the train/test overlap check before training."""
        return [(i.item_id, "\n".join([i.question, *i.options]))
                for i in load_data(self.spec, ctx, load_critical)]

    def run(self, model: ModelHandle, ctx: RunContext) -> SuiteResult:
        items = select_items(self.spec, ctx, load_critical)
        records = score_mc(model, items, self.spec.prompt_format or "medqa",
                           suite=self.spec.name, variant="clean", ctx=ctx)
        for record, item in zip(records, items, strict=True):
            pred = record.meta.get("pred_index")
            readable = isinstance(pred, int) and not isinstance(pred, bool)
            # an unreadable prediction counts as critical: the gate must fail closed
            record.critical = not readable or pred in item.meta["dangerous"]
            if record.critical:
                reason = item.meta["danger_reason"] if readable else "prediction unreadable"
                record.labels = {"critical": True, "danger_reason": reason}
        unreadable = sum(not isinstance(r.meta.get("pred_index"), int) for r in records)
        info = {"items": len(records), "demo": ctx.is_demo_data, "data": str(ctx.data_path),
                "dangerous_options": sum(len(i.meta["dangerous"]) for i in items),
                "unreadable_predictions": unreadable}
        return finish(self.spec, records, ctx, info)
