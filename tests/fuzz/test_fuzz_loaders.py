"""Fuzz every benchmark loader with well-formed, broken and hostile files.

Each example writes rows in one of the forms users have (JSONL, JSON list or keyed object,
CSV), optionally breaks one row (a missing field, a wrong type, a blank text, an answer key
out of range) and optionally corrupts the bytes (truncation, latin-1, UTF-16, random bytes,
a junk line, nothing at all). The property, for every example:

- a file whose rows are all valid and whose bytes survive loads with every row, texts
  unchanged to the character (template and markup syntax is data);
- a broken row is a BadInputError naming the file, that row's line or key, and a field;
  never a skipped row;
- anything else is a BadInputError naming the file, or a result consistent with what the
  bytes still hold. Never another exception type, never a hang (the deadline).
"""

from __future__ import annotations

import io
import itertools
import os
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.core.errors import BadInputError
from suites.loaders import load_items

from .loader_rows import (
    QUESTION,
    TEXT,
    Expected,
    Rows,
    _break_endings,
    _break_medmcqa,
    _break_medqa,
    _break_mmlu,
    _break_pubmedqa,
    endings_rows,
    medmcqa_rows,
    medqa_rows,
    mmlu_rows,
    pubmedqa_rows,
)
from .strategies import (
    corrupt,
    csv_bytes,
    json_bytes,
    jsonl_bytes,
)

# Examples per test; each example loads 1-3 files, each loader has one or two tests.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=5),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_counter = itertools.count()



# --- writing, loading, checking ---------------------------------------------------------------


def _csv_lines_through(rows: Rows, index: int) -> int:
    """The line a CSV record ends on, counted the way the csv module counts it."""
    data = _serialise(Rows(rows.rows[: index + 1], [], header=rows.header), "csv")
    return len(io.StringIO(data.decode("utf-8"), newline="").readlines())


def _serialise(rows: Rows, fmt: str) -> bytes:
    if fmt == "jsonl":
        return jsonl_bytes(rows.rows)
    if fmt == "json":
        return json_bytes(rows.rows)
    if fmt == "json-keyed":
        return json_bytes(dict(zip(rows.keys, rows.rows, strict=True)))
    if rows.header is None:  # header-less MMLU original
        return csv_bytes([[r["question"], r["A"], r["B"], r["C"], r["D"], r["answer"]]
                          for r in rows.rows])
    return csv_bytes(rows.rows, rows.header)


def _location(path, rows: Rows, fmt: str, index: int) -> str:
    if fmt == "jsonl":
        return f"{path}:{index + 1}"
    if fmt == "json":
        return f"{path}[{index}]"
    if fmt == "json-keyed":
        return f"{path}[{rows.keys[index]}]"
    return f"{path}:{_csv_lines_through(rows, index)}"


def _view(items) -> list[Expected]:
    return [(i.question, i.options, i.answer, i.context if i.context is not None else i.subject)
            for i in items]


def _run(tmp_path_factory, loader: str, rows: Rows, fmt: str, corrupted: tuple, name: str):
    data, corruption = corrupted
    folder = tmp_path_factory.getbasetemp() / "fuzz-loaders" / name
    folder.mkdir(parents=True, exist_ok=True)
    suffix = {"jsonl": ".jsonl", "json": ".json", "json-keyed": ".json", "csv": ".csv"}[fmt]
    path = folder / f"{name}{suffix}"  # MMLU reads the subject from the name; rewritten each time
    path.write_bytes(data)
    _check(loader, path, rows, fmt, corruption)


def _check(loader: str, path, rows: Rows, fmt: str, corruption) -> None:
    try:
        items = load_items(loader, str(path))
    except BadInputError as exc:
        message = str(exc)
        assert str(path) in message, message
        assert "Traceback" not in message
        if rows.broken is None:
            assert not corruption.keeps_rows, f"a valid file was refused: {message[:300]}"
        elif corruption.keeps_rows:
            where = _location(path, rows, fmt, rows.broken)
            assert message.startswith(where + ":"), (where, message[:300])
            assert any(f"'{f}" in message for f in rows.broken_fields) or "columns" in message, \
                (rows.broken_fields, message[:300])
        return
    assert corruption.keeps_rows or corruption.name in ("truncate", "latin-1", "crlf"), \
        f"{corruption.name} loaded {len(items)} items"
    if corruption.keeps_rows:
        assert rows.broken is None, f"row {rows.broken} is invalid but the file loaded"
        assert _view(items) == rows.expected  # every row, every text unchanged
    else:  # what is left of the bytes: no more rows than written, in order
        assert len(items) <= len(rows.rows)
        view, expected = _view(items), rows.expected
        for got, want in zip(view[:-1], expected, strict=False):
            if rows.broken is None and corruption.name == "truncate":
                assert got == want


def _maybe_break(draw, rows: Rows, breaker, *args) -> Rows:
    if draw(st.integers(0, 2)) == 0:  # a third of the files carry one invalid row
        index = draw(st.integers(0, len(rows.rows) - 1))
        rows.broken = index
        rows.broken_fields = breaker(draw, rows.rows[index], *args)
        rows.expected[index] = None
    return rows


# --- the tests ----------------------------------------------------------------------------------
# Each example writes its rows in every form the loader reads (each with its own corruption),
# so one draw of rows yields two or three files: more inputs for the same generation cost.


def _run_all(tmp_path_factory, data, loader: str, rows: Rows, formats: list[str], name: str):
    for fmt in formats:
        _run(tmp_path_factory, loader, rows, fmt, data.draw(corrupt(_serialise(rows, fmt))),
             name)


@FUZZ
@given(st.data())
def test_medqa_options_form(tmp_path_factory, data):
    rows = _maybe_break(data.draw, data.draw(medqa_rows()), _break_medqa)
    _run_all(tmp_path_factory, data, "medqa", rows, ["jsonl", "json"], "medqa")


@FUZZ
@given(st.data())
def test_medqa_endings_form(tmp_path_factory, data):
    csv = data.draw(st.booleans())  # CSV-shaped rows (all text) also go into JSON files
    rows = _maybe_break(data.draw, data.draw(endings_rows(csv=csv)), _break_endings, csv)
    _run_all(tmp_path_factory, data, "medqa", rows, ["jsonl", "json"] + ["csv"] * csv, "endings")


@FUZZ
@given(st.data())
def test_pubmedqa_forms(tmp_path_factory, data):
    form = data.draw(st.sampled_from(["ori", "hf", "flat"]))
    csv = form == "flat" and data.draw(st.booleans())
    formats = {"ori": ["json-keyed"], "hf": ["jsonl", "json"],
               "flat": ["jsonl", "json"] + ["csv"] * csv}[form]
    rows = data.draw(pubmedqa_rows(form, csv=csv))
    rows = _maybe_break(data.draw, rows, _break_pubmedqa, csv)
    _run_all(tmp_path_factory, data, "pubmedqa", rows, formats, "pubmedqa")


@FUZZ
@given(st.data())
def test_medmcqa(tmp_path_factory, data):
    csv = data.draw(st.booleans())
    rows = _maybe_break(data.draw, data.draw(medmcqa_rows(csv=csv)), _break_medmcqa, csv)
    _run_all(tmp_path_factory, data, "medmcqa", rows, ["jsonl", "json"] + ["csv"] * csv,
             "medmcqa")


@FUZZ
@given(st.data())
def test_mmlu_forms(tmp_path_factory, data):
    form = data.draw(st.sampled_from(["hf", "letters", "original"]))
    csv = form == "original" or (form == "letters" and data.draw(st.booleans()))
    rows = data.draw(mmlu_rows("hf" if form == "hf" else "letters", csv=csv))
    if form == "original":  # header-less CSV: the subject is the file's name
        # A U+FEFF opening a header-less file is its byte-order mark and is stripped, as
        # every CSV reader does: such a first question cannot be told from one without it.
        assume(not (rows.expected and rows.expected[0][0].startswith("\ufeff")))
        rows.expected = [(q, o, a, "anatomy") for q, o, a, _ in rows.expected]
        formats, name = ["csv"], "anatomy_test"
    else:
        rows.header = ["question", "A", "B", "C", "D", "answer", "subject"] if csv else None
        formats, name = ["jsonl", "json"] + ["csv"] * csv, "mmlu"
    rows = _maybe_break(data.draw, rows, _break_mmlu, csv)
    _run_all(tmp_path_factory, data, "mmlu", rows, formats, name)


@pytest.mark.parametrize("loader", ["medqa", "pubmedqa", "medmcqa", "mmlu"])
@settings(max_examples=150, deadline=timedelta(seconds=5))
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                     st.sampled_from([b"", b"\n", b"[]", b"{}", b"null", b"[1,2]", b'"x"',
                                      b'{"a": {"b": [}', b"\xff\xfe{\x00", b"[" * 5000])),
       suffix=st.sampled_from([".jsonl", ".json", ".csv", ".txt"]))
def test_arbitrary_bytes_never_escape_as_another_error(tmp_path_factory, loader, raw, suffix):
    folder = tmp_path_factory.getbasetemp() / "fuzz-bytes"
    folder.mkdir(exist_ok=True)
    path = folder / f"{loader}-{next(_counter)}{suffix}"
    path.write_bytes(raw)
    try:
        items = load_items(loader, str(path))
    except BadInputError as exc:
        assert str(path) in str(exc)
    else:  # a few byte strings are real files: every item then has its texts
        assert items and all(i.question.strip() for i in items)
    finally:
        path.unlink()


def test_strategies_reach_every_corruption_and_hostile_text():
    """The generators really produce the hostile cases the module docstring promises."""
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None, database=None)
    @given(st.data())
    def probe(data):
        _, corruption = data.draw(corrupt(b'{"a": "b"}\n'))
        seen.add(corruption.name)
        text = data.draw(st.one_of(QUESTION, TEXT))
        if re.search(r"\{\{|\{%|<script", text):
            seen.add("template")
        if len(text) > 20_000:
            seen.add("huge")

    probe()
    assert {"truncate", "latin-1", "utf-16", "random", "empty", "template", "huge"} <= seen
