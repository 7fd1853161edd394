"""Entity extraction: the model's listed entities parsed, placed on the note, and scored.

The model answers with lines such as `DISEASE: pneumonia`. Parsing is tolerant of form
(bullets, numbering, case, plural or synonymous type names, `-` or `:` separators,
several entities after one type separated by commas or semicolons) but never invents: a
line that names no known type, or whose entity is not in the note, is not guessed at.
Non-blank lines that cannot be parsed are counted as parse failures (their entities are
missed), and a parsed entity that is not in the note counts as a false positive.

Scores are entity-level and exact through seqeval (the same spans CoNLL scoring uses);
partial matching (same type, overlapping tokens) is our own code: seqeval scores exact
spans only, and the partial rule is a few lines over the spans seqeval extracts
(`get_entities`), so it needs no second library.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from seqeval.metrics.sequence_labeling import get_entities

from suites.clinical.ner_data import NerNote, tokenize

# Type names a model may use, mapped to the types of the demo annotation (and their own).
TYPE_ALIASES = {
    "disease": "DISEASE", "diseases": "DISEASE", "condition": "DISEASE",
    "conditions": "DISEASE", "diagnosis": "DISEASE", "diagnoses": "DISEASE",
    "disorder": "DISEASE", "disorders": "DISEASE", "problem": "DISEASE", "problems": "DISEASE",
    "symptom": "SYMPTOM", "symptoms": "SYMPTOM", "sign": "SYMPTOM", "signs": "SYMPTOM",
    "medication": "MEDICATION", "medications": "MEDICATION", "drug": "MEDICATION",
    "drugs": "MEDICATION", "medicine": "MEDICATION", "medicines": "MEDICATION",
    "chemical": "MEDICATION", "chemicals": "MEDICATION", "treatment": "MEDICATION",
    "procedure": "PROCEDURE", "procedures": "PROCEDURE", "test": "PROCEDURE",
    "tests": "PROCEDURE", "investigation": "PROCEDURE", "investigations": "PROCEDURE",
    "imaging": "PROCEDURE", "operation": "PROCEDURE", "operations": "PROCEDURE",
}
_LINE = re.compile(r"^\s*(?:[-*•>]+|\d+[.)])?\s*\**\s*([A-Za-z][A-Za-z ]*?)\s*\**\s*"
                   r"(?::|\s-\s|\s–\s|=)\s*(.*)$")
_NONE = re.compile(r"^(?:none|n/?a|nil|-|none (?:found|mentioned|identified))\.?$", re.IGNORECASE)


@dataclass
class Parsed:
    """Entities (type, text) parsed from an answer, and the lines that could not be."""

    entities: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def parse_entities(answer: str, types: Sequence[str]) -> Parsed:
    """`TYPE: entity[, entity...]` lines of `answer`, types mapped to `types`."""
    known = {t.lower(): t for t in types}
    aliases = {k: v for k, v in TYPE_ALIASES.items() if v in types}
    out = Parsed()
    for raw in (answer or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        match = _LINE.match(line)
        etype = None
        if match:
            name = match.group(1).strip().lower()
            etype = known.get(name) or aliases.get(name)
        if etype is None:
            out.failures.append(line)
            continue
        for piece in re.split(r"[,;]|\band\b", match.group(2)):
            text = piece.strip().strip("*.`'\"").strip()
            if text and not _NONE.match(text):
                out.entities.append((etype, text))
    return out


def place(note: NerNote, entities: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """BIO tags on the note's tokens for every occurrence of each entity (case-insensitive
    token match, earlier entities first, no overlaps), and the types of the entities that
    are not in the note (false positives with no place to go)."""
    words = [w.lower() for w, _, _ in note.tokens]
    tags = ["O"] * len(words)
    missing: list[str] = []
    for etype, text in entities:
        target = [w.lower() for w, _, _ in tokenize(text)]
        if not target:
            continue
        found = False
        for i in range(len(words) - len(target) + 1):
            if words[i:i + len(target)] == target:
                found = True
                if all(t == "O" for t in tags[i:i + len(target)]):
                    tags[i] = f"B-{etype}"
                    tags[i + 1:i + len(target)] = [f"I-{etype}"] * (len(target) - 1)
        if not found:
            missing.append(etype)
    return tags, missing


def spans(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """The (type, first, last token) entities of a BIO sequence, as seqeval reads them."""
    return {(t, s, e) for t, s, e in get_entities(list(tags))}


def counts(gold: Sequence[str], pred: Sequence[str], missing: Sequence[str] = ()
           ) -> dict[str, dict[str, int]]:
    """Per type: exact tp/fp/fn, and partial tp (same type, overlapping tokens, each gold
    entity matched once) with its fp/fn."""
    g, p = spans(gold), spans(pred)
    out: dict[str, dict[str, int]] = {}
    for etype in sorted({t for t, _, _ in g | p} | set(missing)):
        gt = [s for s in g if s[0] == etype]
        pt = [s for s in p if s[0] == etype]
        tp = len(set(gt) & set(pt))
        unmatched = list(gt)
        partial = 0
        for _, ps, pe in sorted(pt, key=lambda s: s[1]):
            hit = next((x for x in unmatched if x[1] <= pe and ps <= x[2]), None)
            if hit is not None:
                unmatched.remove(hit)
                partial += 1
        extra = Counter(missing)[etype]
        out[etype] = {"tp": tp, "fp": len(pt) - tp + extra, "fn": len(gt) - tp,
                      "partial_tp": partial, "partial_fp": len(pt) - partial + extra,
                      "partial_fn": len(gt) - partial}
    return out


def f1(tp: int, fp: int, fn: int) -> float:
    """F1 of counts; no gold and no predicted entities is a perfect 1 (nothing to find,
    nothing invented)."""
    if tp + fp + fn == 0:
        return 1.0
    return 2 * tp / (2 * tp + fp + fn)


def sequences(notes_tags: Sequence[tuple[Sequence[str], Sequence[str], Sequence[str]]]
              ) -> tuple[list[list[str]], list[list[str]]]:
    """seqeval's (y_true, y_pred) for notes (gold tags, predicted tags, missing types):
    each prediction not in its note becomes one extra token, O in gold and B-TYPE in the
    prediction, so seqeval counts it as the false positive it is."""
    y_true, y_pred = [], []
    for gold, pred, missing in notes_tags:
        y_true.append(list(gold) + ["O"] * len(missing))
        y_pred.append(list(pred) + [f"B-{t}" for t in missing])
    return y_true, y_pred
