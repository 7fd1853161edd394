"""Entity-annotated notes from BIO/CoNLL token files and from JSONL with character spans.

Both forms become the same `NerNote`: tokens with their offsets in the note's text and a
BIO tag per token, so the scorer never knows which file a note came from and a BIO file
and a span JSONL of the same notes give the same entity F1.

BIO/CoNLL (the layout of NCBI-disease and BC5CDR): one token per line, its tag in the
last whitespace-separated column, a blank line between notes; `-DOCSTART-` lines and
`# id = NAME` comment lines are read (the latter names the next note). The text of a BIO
note is its tokens joined by single spaces.

Span JSONL: one note a line, `{"id", "text", "entities": [{"start", "end", "type"}]}`
with end-exclusive character offsets that fall on token boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import BadInputError
from suites.loaders.common import _open_text, iter_jsonl

TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
_TAG = re.compile(r"O|[BI]-[A-Za-z][A-Za-z_]*")


@dataclass(frozen=True)
class NerNote:
    """A note, its tokens (text, start, end) and one BIO tag per token."""

    item_id: str
    text: str
    tokens: tuple[tuple[str, int, int], ...]
    tags: tuple[str, ...]

    @property
    def types(self) -> set[str]:
        return {t[2:] for t in self.tags if t != "O"}


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Words (with inner hyphens/apostrophes) and single punctuation marks, with offsets."""
    return [(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(text)]


def check_tag(tag: str, where: str) -> str:
    if not _TAG.fullmatch(tag):
        raise BadInputError(f"field 'tag': '{tag}' is not a BIO tag (O, B-TYPE or I-TYPE)",
                            where=where)
    return tag


def read_bio(path: Path) -> list[NerNote]:
    """Notes of a BIO/CoNLL token file; a bad tag names the file, line and field."""
    text = _open_text(path)
    notes: list[NerNote] = []
    rows: list[tuple[str, str]] = []
    name: str | None = None
    first_line = 0

    def flush() -> None:
        nonlocal rows, name
        if rows:
            note_id = name or f"note-{len(notes) + 1}"
            words = [w for w, _ in rows]
            joined = " ".join(words)
            offsets, pos = [], 0
            for w in words:
                offsets.append((w, pos, pos + len(w)))
                pos += len(w) + 1
            notes.append(NerNote(note_id, joined, tuple(offsets), tuple(t for _, t in rows)))
            if any(n.item_id == note_id for n in notes[:-1]):
                raise BadInputError(f"note id '{note_id}' appears twice",
                                    where=f"{path}:{first_line}")
        rows, name = [], None

    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("-DOCSTART-"):
            flush()
            continue
        if stripped.startswith("#"):
            key, _, value = stripped[1:].partition("=")
            if key.strip() == "id" and value.strip():
                flush()
                name, first_line = value.strip(), number
            continue
        parts = stripped.split()
        if len(parts) < 2:
            raise BadInputError("expected a token and its tag separated by whitespace "
                                "(field 'tag' missing)", where=f"{path}:{number}")
        if not rows and name is None:
            first_line = number
        rows.append((parts[0], check_tag(parts[-1], f"{path}:{number}")))
    flush()
    if not notes:
        raise BadInputError("no annotated notes in the file", where=str(path))
    return notes


def _int_field(entity: dict, key: str, where: str, index: int) -> int:
    value = entity.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadInputError(f"field 'entities[{index}].{key}' must be an integer offset",
                            where=where)
    return value


def read_spans(path: Path) -> list[NerNote]:
    """Notes of a span JSONL; a span past the text or off token boundaries names the
    file, line and field."""
    notes: list[NerNote] = []
    for where, row in iter_jsonl(path):
        note_id, text = row.get("id"), row.get("text")
        if not isinstance(note_id, str) or not note_id:
            raise BadInputError("field 'id' must be a non-empty string", where=where)
        if not isinstance(text, str) or not text.strip():
            raise BadInputError("field 'text' must be non-empty text", where=where)
        entities = row.get("entities")
        if not isinstance(entities, list):
            raise BadInputError("field 'entities' must be a list", where=where)
        tokens = tokenize(text)
        tags = ["O"] * len(tokens)
        starts = {s: i for i, (_, s, _) in enumerate(tokens)}
        ends = {e: i for i, (_, _, e) in enumerate(tokens)}
        for k, entity in enumerate(entities):
            if not isinstance(entity, dict):
                raise BadInputError(f"field 'entities[{k}]' must be an object", where=where)
            start = _int_field(entity, "start", where, k)
            end = _int_field(entity, "end", where, k)
            etype = entity.get("type")
            if not isinstance(etype, str) or not re.fullmatch(r"[A-Za-z][A-Za-z_]*", etype):
                raise BadInputError(f"field 'entities[{k}].type' must be a type name",
                                    where=where)
            if end > len(text):
                raise BadInputError(f"field 'entities[{k}].end': {end} is past the end of "
                                    f"the text ({len(text)} characters)", where=where)
            if not 0 <= start < end:
                raise BadInputError(f"field 'entities[{k}].start': {start} must be >= 0 and "
                                    f"before end {end}", where=where)
            if start not in starts or end not in ends:
                raise BadInputError(f"field 'entities[{k}]': span {start}-{end} "
                                    f"('{text[start:end]}') does not fall on token "
                                    "boundaries", where=where)
            first, last = starts[start], ends[end]
            if any(t != "O" for t in tags[first:last + 1]):
                raise BadInputError(f"field 'entities[{k}]': span {start}-{end} overlaps "
                                    "another entity", where=where)
            tags[first] = f"B-{etype}"
            for i in range(first + 1, last + 1):
                tags[i] = f"I-{etype}"
        if any(n.item_id == note_id for n in notes):
            raise BadInputError(f"note id '{note_id}' appears twice", where=where)
        notes.append(NerNote(note_id, text, tuple(tokens), tuple(tags)))
    if not notes:
        raise BadInputError("no annotated notes in the file", where=str(path))
    return notes


def read_notes(path: Path) -> list[NerNote]:
    """A BIO/CoNLL file (.bio, .conll, .txt, .tsv) or a span JSONL (.jsonl)."""
    if path.suffix.lower() in (".jsonl", ".json"):
        return read_spans(path)
    return read_bio(path)
