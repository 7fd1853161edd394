"""Clinical entity extraction: notes in, `TYPE: entity` lines out, entity P/R/F1.

The notes come from a BIO/CoNLL token file or a span JSONL (suites.clinical.ner_data);
the prompt is the `entity_extraction` template's, so a model trained on rows built by
`medgate data` from the same kind of records is asked in the form it learnt. Each record
keeps the gold and predicted tag sequences and per-type counts, so every score, per note
or pooled, is recomputed from the records alone.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.core.backends import ModelHandle
from harness.core.records import Record
from suites.base import RunContext, SuiteResult, SuiteSpec
from suites.benchmark import finish
from suites.clinical.common import generate
from suites.clinical.ner import counts, f1, parse_entities, place
from suites.clinical.ner_data import NerNote, read_notes
from suites.clinical.templates import entity_lines, get_template, prompt
from suites.items import load_data, select_items

TEMPLATE = "entity_extraction"


def gold_answer(note: NerNote) -> str:
    """The reference answer: the annotated entities as the lines the model should write."""
    spans = []
    i = 0
    while i < len(note.tags):
        tag = note.tags[i]
        if tag.startswith("B-") or (tag.startswith("I-") and (i == 0 or note.tags[i - 1] == "O")):
            j = i + 1
            while j < len(note.tags) and note.tags[j] == f"I-{tag[2:]}":
                j += 1
            spans.append({"start": note.tokens[i][1], "end": note.tokens[j - 1][2],
                          "type": tag[2:]})
            i = j
        else:
            i += 1
    return entity_lines(note.text, spans, note.item_id)


class EntityExtractionSuite:
    """Entity extraction scored with seqeval (exact) and partial overlap, per type."""

    OPTIONS: ClassVar[dict[str, Any]] = {"chat": bool, "types": list[str]}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def _types(self, ctx: RunContext, notes: list[NerNote]) -> list[str]:
        given = ctx.options.get("types")
        return list(given) if given else sorted({t for n in notes for t in n.types})

    def _prompt(self, note: NerNote) -> str:
        return prompt(get_template(TEMPLATE), {"text": note.text}, note.item_id)

    def item_texts(self, ctx: RunContext) -> list[tuple[str, str]]:
        notes = load_data(self.spec, ctx, read_notes)
        return [(n.item_id, n.text) for n in notes]

    def run(self, model: ModelHandle, ctx: RunContext) -> SuiteResult:
        notes: list[NerNote] = select_items(self.spec, ctx, read_notes)
        types = self._types(ctx, load_data(self.spec, ctx, read_notes))
        prompts = [self._prompt(n) for n in notes]
        outputs = generate(model, prompts, ctx)
        records = []
        for note, text, output in zip(notes, prompts, outputs, strict=True):
            parsed = parse_entities(output, types)
            pred, missing = place(note, parsed.entities)
            by_type = counts(note.tags, pred, missing)
            tp, fp, fn = (sum(c[k] for c in by_type.values()) for k in ("tp", "fp", "fn"))
            labels = {"gold_tags": list(note.tags), "pred_tags": pred, "missing_types": missing,
                      "entity_counts": by_type, "parse_failures": len(parsed.failures),
                      "unparsed_lines": parsed.failures[:20], "entity_f1": f1(tp, fp, fn),
                      "predicted": [f"{t}: {e}" for t, e in parsed.entities]}
            records.append(Record(suite=self.spec.name, item_id=note.item_id, prompt=text,
                                  gold=gold_answer(note), output=output, labels=labels,
                                  demo=ctx.is_demo_data))
        return finish(self.spec, records, ctx, {"max_new_tokens": ctx.max_new_tokens,
                                                "entity_types": types, "template": TEMPLATE})
