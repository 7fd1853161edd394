"""Hypothesis strategies for hostile input: texts, wrong types, file corruptions.

Generation is kept cheap (small texts, huge fields made by repetition rather than drawn
character by character) so that thousands of examples run in seconds on a shared machine.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import dataclass

from hypothesis import strategies as st

# Text that must reach an item unchanged: template and markup syntax is data, never code.
HOSTILE_SNIPPETS = [
    "{{ 7*7 }}", "{% raw %}", "{% endraw %}", "{{ config.__class__ }}", "${7*7}", "#{7*7}",
    "<script>alert(1)</script>", "</textarea><img src=x onerror=alert(1)>", "&amp;", "&#x3C;",
    "\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c", "\x00", "\r\n", "\r", "\t", "\ufeff",
    "é", "日本語", "\U0001f489", "\u202e", "'", '"', ",", "\\", "NA", "None", "null", "007",
    "1.50", "2020-01-01", "yes", "~", "- item", "key: value", "[1, 2]", "A", " ",
]

_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",))
_PLAIN = st.text(_CHARS, min_size=1, max_size=12)
_PIECE = st.one_of(_PLAIN, st.sampled_from(HOSTILE_SNIPPETS))


@st.composite
def texts(draw, *, huge: bool = True) -> str:
    """Non-blank text mixing random characters, template/HTML syntax and separators."""
    pieces = draw(st.lists(_PIECE, min_size=1, max_size=5))
    text = "".join(pieces)
    if huge and draw(st.integers(0, 49)) == 0:  # now and then a field of 20k-200k chars
        text = text * draw(st.integers(20_000 // len(text) + 1, 200_000 // len(text) + 1))
    if not text.strip():
        text = "x" + text
    return text


def _pool(size: int = 400, seed: int = 20_261_121) -> list[str]:
    """Fixed hostile texts, drawn with one choice each: cheap enough for thousands of rows."""
    rng = random.Random(seed)
    alphabet = [chr(c) for c in (*range(0x20, 0x7F), 0xE9, 0x3B1, 0x65E5, 0x1F489, 0x202E,
                                 0x200B, 0xA0, 0x2028, 0x85, 0x0C, 0x0B, 0x1C, 0x09, 0x0D, 0x0A)]
    out = []
    for _ in range(size):
        parts = [rng.choice(HOSTILE_SNIPPETS) if rng.random() < 0.5
                 else "".join(rng.choices(alphabet, k=rng.randint(1, 12)))
                 for _ in range(rng.randint(1, 4))]
        text = "".join(parts)
        out.append(text if text.strip() else "x" + text)
    out += ["A" * 20_000, "{{ 7*7 }}<script>" * 12_000, "é" * 150_000]  # huge fields
    return out


POOL = _pool()
POOL_TEXTS = st.sampled_from(POOL)
"""Non-blank hostile text in a single draw (questions still use `texts()`)."""
CELL_POOL_TEXTS = st.sampled_from([t for t in POOL if len(t) < 100_000])
"""Pool texts under the csv module's field size limit."""


def cell_texts(*, huge: bool = False) -> st.SearchStrategy[str]:
    """Text for a CSV cell: no NUL, under the csv module's field limit, non-blank."""
    return texts(huge=huge).map(lambda t: t.replace("\x00", "") or "x").filter(
        lambda t: t.strip() != "")


WRONG_TYPES = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=False), st.just([]),
    st.lists(st.integers(0, 3), min_size=1, max_size=3), st.just({}),
    st.dictionaries(st.sampled_from(["a", "text"]), st.integers(), min_size=1, max_size=2),
    st.just(""), st.just("   "),
)
"""Values that are never a valid text field (null, numbers, lists, objects, blank text)."""

JSON_EXTRAS = st.dictionaries(
    st.sampled_from(["extra", "meta_note", "source", "html", "nested"]),
    st.one_of(st.sampled_from(HOSTILE_SNIPPETS), st.integers(), st.none(),
              st.dictionaries(st.just("k"), st.lists(st.integers(), max_size=2), max_size=1)),
    max_size=2,
)
"""Unknown fields a row may carry; a loader ignores them and keeps the row."""


# --- writing rows in a format ---------------------------------------------------------------


def jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def json_bytes(rows: list[dict] | dict) -> bytes:
    return json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")


def csv_bytes(rows: list[dict], header: list[str] | None = None) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow([row[k] for k in header] if header is not None else row)
    return buffer.getvalue().encode("utf-8")


# --- corruptions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Corruption:
    """What was done to a well-formed file's bytes; `keeps_rows` when the rows survive."""

    name: str
    keeps_rows: bool


CORRUPTIONS = ["none", "truncate", "latin-1", "utf-16", "random", "bom", "crlf", "junk-line",
               "empty"]


@st.composite
def corrupt(draw, data: bytes, kind: str | None = None) -> tuple[bytes, Corruption]:
    """`data` with one hostile change, and whether every row must still load."""
    kind = kind or draw(st.sampled_from(CORRUPTIONS))
    if kind == "none":
        return data, Corruption(kind, True)
    if kind == "truncate":
        cut = draw(st.integers(0, max(0, len(data) - 1)))
        return data[:cut], Corruption(kind, False)
    if kind == "latin-1":
        text = data.decode("utf-8")
        out = text.encode("latin-1", errors="replace")
        return out, Corruption(kind, out == data)
    if kind == "utf-16":
        return data.decode("utf-8").encode("utf-16"), Corruption(kind, False)
    if kind == "random":
        return draw(st.binary(min_size=1, max_size=200)), Corruption(kind, False)
    if kind == "bom":
        return b"\xef\xbb\xbf" + data, Corruption(kind, True)
    if kind == "crlf":
        return re.sub(rb"(?<!\r)\n", b"\r\n", data), Corruption(kind, False)
    if kind == "junk-line":
        junk = draw(st.sampled_from([b"{not json", b"]", b"\x00\x01", b"<html>", b"{{ 7*7 }}"]))
        return data + junk + b"\n", Corruption(kind, False)
    if kind == "empty":
        return b"", Corruption(kind, False)
    raise AssertionError(kind)
