"""Report generation (findings -> impression, note -> summary) with a hallucination rate.

ROUGE-L and BLEU-4 against the reference as the notes-summary suite scores them, plus
the entities of each output that its input does not support (suites.clinical.lexicon:
normalised by the lexicon's synonyms and abbreviations, negation kept apart). Each
record lists its unsupported entities, so a reviewer sees them item by item in the
evidence explorer.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.core.backends import ModelHandle
from harness.core.records import Record
from suites.base import RunContext, SuiteResult, SuiteSpec
from suites.benchmark import finish
from suites.clinical.common import TaskItem, generate, read_task_items
from suites.clinical.lexicon import unsupported
from suites.clinical.templates import get_template, render
from suites.items import load_data, select_items
from suites.metrics.text import per_item

# The answer field of each report template (the input fields are the template's own).
REFERENCE_FIELDS = {"radiology_impression": "impression", "summary": "summary"}


class ReportGenerationSuite:
    """Generated reports: ROUGE-L, BLEU-4 and the share of unsupported entities."""

    OPTIONS: ClassVar[dict[str, Any]] = {"chat": bool, "template": str}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def _template(self, ctx: RunContext) -> str:
        name = str(ctx.options.get("template", "radiology_impression"))
        get_template(name)
        return name

    def _load(self, ctx: RunContext):
        name = self._template(ctx)
        reference = REFERENCE_FIELDS.get(name, get_template(name).output)
        return lambda path: read_task_items(path, name, reference)

    def item_texts(self, ctx: RunContext) -> list[tuple[str, str]]:
        items: list[TaskItem] = load_data(self.spec, ctx, self._load(ctx))
        return [(i.item_id, f"{i.prompt}\n{i.reference}") for i in items]

    def run(self, model: ModelHandle, ctx: RunContext) -> SuiteResult:
        items: list[TaskItem] = select_items(self.spec, ctx, self._load(ctx))
        template = get_template(self._template(ctx))
        outputs = generate(model, [i.prompt for i in items], ctx)
        refs = [i.reference or "" for i in items]
        rouge, bleu = per_item("rouge_l", outputs, refs), per_item("bleu4", outputs, refs)
        records = []
        for item, output, r, b in zip(items, outputs, rouge, bleu, strict=True):
            source = "\n".join(render(template, item.record, item.item_id))
            stated, missing = unsupported(output, source)
            labels = {"rouge_l": r, "bleu4": b, "n_entities": len(stated),
                      "n_unsupported": len(missing),
                      "entities": [m.describe() for m in stated],
                      "unsupported_entities": [m.describe() for m in missing]}
            records.append(Record(suite=self.spec.name, item_id=item.item_id, prompt=item.prompt,
                                  gold=item.reference, output=output, labels=labels,
                                  demo=ctx.is_demo_data))
        return finish(self.spec, records, ctx, {"max_new_tokens": ctx.max_new_tokens,
                                                "template": template.name})
