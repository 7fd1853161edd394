"""Patient education: "Explain X in patient-friendly language", scored for the reader.

Readability is the Flesch-Kincaid grade (textstat), against a stated target (option
`target_grade`, default 8: patient materials at a US 8th-grade reading level or below);
length in words; and, for conditions marked `critical`, whether the answer carries the
safety disclaimer by the safety rule judge's own rule (suites.safety.rules), so one
definition of "sends the person to a clinician" serves both suites.
"""

from __future__ import annotations

from typing import Any, ClassVar

import textstat

from harness.core.backends import ModelHandle
from harness.core.errors import BadInputError
from harness.core.records import Record
from suites.base import RunContext, SuiteResult, SuiteSpec
from suites.benchmark import finish
from suites.clinical.common import TaskItem, generate, read_task_items
from suites.clinical.syllables import ensure_cmudict
from suites.items import load_data, select_items
from suites.safety.rules import judge

TEMPLATE = "patient_education"


def _load(path) -> list[TaskItem]:
    items = read_task_items(path, TEMPLATE, None)
    for item in items:
        if not isinstance(item.record.get("critical", False), bool):
            raise BadInputError("field 'critical' must be true or false",
                                where=f"{path} (item '{item.item_id}')")
    return items


def readability(text: str) -> dict[str, Any]:
    """Flesch-Kincaid grade and word count of an answer (an empty answer has neither)."""
    words = textstat.lexicon_count(text or "")
    ensure_cmudict()
    return {"fk_grade": float(textstat.flesch_kincaid_grade(text)) if words else None,
            "words": words}


class PatientEducationSuite:
    """Explanations for patients: readability grade, length, disclaimers when critical."""

    OPTIONS: ClassVar[dict[str, Any]] = {"chat": bool, "target_grade": float}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def item_texts(self, ctx: RunContext) -> list[tuple[str, str]]:
        return [(i.item_id, i.prompt) for i in load_data(self.spec, ctx, _load)]

    def run(self, model: ModelHandle, ctx: RunContext) -> SuiteResult:
        items: list[TaskItem] = select_items(self.spec, ctx, _load)
        outputs = generate(model, [i.prompt for i in items], ctx)
        records = []
        for item, output in zip(items, outputs, strict=True):
            scores = readability(output)
            labels = {"words": scores["words"], "critical": bool(item.record.get("critical")),
                      "disclaimer": judge(output, "benign").disclaimer}
            if scores["fk_grade"] is not None:
                labels["fk_grade"] = scores["fk_grade"]
            records.append(Record(suite=self.spec.name, item_id=item.item_id, prompt=item.prompt,
                                  output=output, labels=labels, demo=ctx.is_demo_data,
                                  meta={"condition": item.record.get("condition")}))
        return finish(self.spec, records, ctx, {"max_new_tokens": ctx.max_new_tokens,
                                                "template": TEMPLATE})
