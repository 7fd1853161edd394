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
import string
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.core.errors import BadInputError
from suites.loaders import load_items

from .strategies import (
    CELL_POOL_TEXTS,
    JSON_EXTRAS,
    POOL_TEXTS,
    WRONG_TYPES,
    cell_texts,
    corrupt,
    csv_bytes,
    json_bytes,
    jsonl_bytes,
    texts,
)

# Examples per test; each example loads 1-3 files, each loader has one or two tests.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=5),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_counter = itertools.count()

Expected = tuple[str, tuple[str, ...], int, Any]  # question, options, answer, context/subject


@dataclass
class Rows:
    """Rows as written, what each valid one must load as, and the row made invalid."""

    rows: list[dict[str, Any]]
    expected: list[Expected]
    broken: int | None = None  # index of the invalid row
    broken_fields: tuple[str, ...] = ()
    header: list[str] | None = None  # CSV column order (None: header-less CSV)
    keys: list[str] = field(default_factory=list)  # JSON object keys, for keyed files


# --- rows per loader ------------------------------------------------------------------------

QUESTION = st.one_of(texts(), POOL_TEXTS)  # half drawn character by character
TEXT = POOL_TEXTS  # options and contexts: one draw each
CELL = CELL_POOL_TEXTS
CELL_QUESTION = cell_texts()


@st.composite
def medqa_rows(draw, csv: bool = False) -> Rows:
    n = draw(st.integers(1, 6))
    width = draw(st.integers(4, 5))
    letters = string.ascii_uppercase[:width]
    listed = draw(st.booleans())
    rows, expected = [], []
    for _ in range(n):
        q = draw(QUESTION)
        opts = [draw(TEXT) for _ in letters]
        k = draw(st.integers(0, width - 1))
        row = {"question": q, "options": opts if listed else dict(zip(letters, opts, strict=True)),
               "answer_idx": letters[k], **draw(JSON_EXTRAS)}
        if draw(st.booleans()):
            row["answer"] = opts[k]
        rows.append(row)
        expected.append((q, tuple(opts), k, None))
    return Rows(rows, expected)


def _break_medqa(draw, row: dict) -> tuple[str, ...]:
    name = draw(st.sampled_from(["question", "options", "answer_idx", "answer"]))
    how = draw(st.sampled_from(["drop", "type", "value"]))
    if name == "answer":  # optional; only a text that is not the option's is wrong
        row["answer"] = "\x00not the option\x00"
    elif how == "drop":
        del row[name]
    elif how == "type" or name == "question":
        row[name] = draw(WRONG_TYPES)
    elif name == "options":
        row[name] = draw(st.sampled_from([{"A": "a"}, {"A": "a", "C": "c"}, ["only one"],
                                          {"A": "a", "B": 3}, ["a", ""], ["x"] * 27]))
    else:
        row[name] = draw(st.sampled_from(["Z", "a", "AB", "0"]))
    return (name,)


@st.composite
def endings_rows(draw, csv: bool = False) -> Rows:
    n = draw(st.integers(1, 6))
    width = draw(st.integers(2, 5))
    text = CELL if csv else TEXT
    rows, expected = [], []
    for _ in range(n):
        q = draw(CELL_QUESTION if csv else QUESTION)
        opts = [draw(text) for _ in range(width)]
        label = draw(st.integers(0, width - 1))
        row = {"sent1": q, **{f"ending{i}": o for i, o in enumerate(opts)},
               "label": str(label) if csv else label}
        if not csv:
            row.update(draw(JSON_EXTRAS))
        rows.append(row)
        expected.append((q, tuple(opts), label, None))
    header = ["sent1", *(f"ending{i}" for i in range(width)), "label"] if csv else None
    return Rows(rows, expected, header=header)


def _break_field(draw, row: dict, csv: bool, *, fields: list[str], answer: str,
                 csv_bad_answers: list[str], bad_answers: list[Any],
                 hows: tuple[str, ...] = ("drop", "type"),
                 blamed_on_drop: dict[str, tuple[str, ...]] | None = None) -> tuple[str, ...]:
    """Corrupt one of `fields` of `row`: blank it (CSV), or drop it or give it a wrong type
    or value (JSON); the answer field gets answer-shaped wrong values. Returns the field
    names an error may rightly blame (a dropped option can also surface as a gap in the
    numbering: `blamed_on_drop[field]` names those)."""
    name = draw(st.sampled_from(fields))
    if csv:
        row[name] = draw(st.sampled_from(["", "  "] + (csv_bad_answers if name == answer else [])))
        return (name,)
    if draw(st.sampled_from(hows)) == "drop":
        del row[name]
        return (name, *(blamed_on_drop or {}).get(name, ()))
    row[name] = draw(st.sampled_from(bad_answers)) if name == answer else draw(WRONG_TYPES)
    return (name,)


def _break_endings(draw, row: dict, csv: bool) -> tuple[str, ...]:
    width = sum(1 for k in row if k.startswith("ending"))
    fields = ["sent1", "ending0", f"ending{width - 2}", "label"]
    gap = (f"ending{width - 1}", "ending0", "ending1")  # a dropped ending leaves a gap
    return _break_field(draw, row, csv, fields=fields, answer="label",
                        csv_bad_answers=["9", "-1", "x", "1.0"],
                        bad_answers=[None, True, 1.5, [0], "", "x", -1, width, "9" * 20],
                        hows=("drop", "type", "value"),
                        blamed_on_drop={"ending0": gap, f"ending{width - 2}": gap})


@st.composite
def pubmedqa_rows(draw, form: str, csv: bool = False) -> Rows:
    n = draw(st.integers(1, 6))
    text = CELL if csv else TEXT
    rows, expected, keys = [], [], []
    for i in range(n):
        q = draw(CELL_QUESTION if csv else QUESTION)
        contexts = [draw(text) for _ in range(draw(st.integers(1, 3)))]
        label = draw(st.sampled_from(["yes", "no", "maybe"]))
        written = draw(st.sampled_from([label, label.upper(), f" {label} "]))
        if form == "ori":
            row = {"QUESTION": q, "CONTEXTS": contexts, "LABELS": ["BACKGROUND"] * len(contexts),
                   "final_decision": written}
            keys.append(str(10_000 + i))
            context = "\n".join(contexts)
        elif form == "hf":
            row = {"pubid": 10_000 + i, "question": q,
                   "context": {"contexts": contexts, "labels": ["X"]}, "final_decision": written}
            context = "\n".join(contexts)
        else:
            context = contexts[0] if csv or draw(st.booleans()) else contexts
            row = {"question": q, "context": context, "answer": written}
            context = context if isinstance(context, str) else "\n".join(context)
        if not csv:
            row.update(draw(JSON_EXTRAS))
        rows.append(row)
        expected.append((q, ("yes", "no", "maybe"), ["yes", "no", "maybe"].index(label), context))
    header = ["question", "context", "answer"] if csv else None
    return Rows(rows, expected, header=header, keys=keys)


def _break_pubmedqa(draw, row: dict, csv: bool) -> tuple[str, ...]:
    names = [k for k in ("QUESTION", "CONTEXTS", "final_decision", "question", "context",
                         "answer") if k in row]
    name = draw(st.sampled_from(names))
    if csv:
        row[name] = draw(st.sampled_from(["", "  "] + (["yes please", "n"] if name == "answer"
                                                       else [])))
        return (name,)
    how = draw(st.sampled_from(["drop", "type", "value"]))
    if how == "drop":
        del row[name]
    elif how == "value" and name in ("final_decision", "answer"):
        row[name] = draw(st.sampled_from(["yess", "true", "1", "y"]))
    elif how == "value" and name in ("context", "CONTEXTS"):
        row[name] = draw(st.sampled_from([[], [None], ["ok", 3], {"contexts": []}, {"x": "y"}]))
    else:
        row[name] = draw(WRONG_TYPES.filter(lambda v: not (isinstance(v, str) and v.strip())))
    # Dropping or retyping a field that picks the form makes another form's field missing.
    return (name, "answer", "question", "context", "final_decision")


@st.composite
def medmcqa_rows(draw, csv: bool = False) -> Rows:
    n = draw(st.integers(1, 6))
    text = CELL if csv else TEXT
    one_based = draw(st.booleans())
    cops = [draw(st.integers(1, 4) if one_based else st.integers(0, 3)) for _ in range(n)]
    if one_based:
        cops[draw(st.integers(0, n - 1))] = 4
    letters = draw(st.booleans()) and not csv
    rows, expected = [], []
    for cop in cops:
        q = draw(CELL_QUESTION if csv else QUESTION)
        opts = [draw(text) for _ in range(4)]
        index = cop - (1 if one_based else 0)
        written: Any = "ABCD"[index] if letters else (str(cop) if csv else cop)
        row = {"question": q, "opa": opts[0], "opb": opts[1], "opc": opts[2], "opd": opts[3],
               "cop": written}
        if not csv:
            row.update(draw(JSON_EXTRAS))
        rows.append(row)
        expected.append((q, tuple(opts), index, None))
    header = ["question", "opa", "opb", "opc", "opd", "cop"] if csv else None
    return Rows(rows, expected, header=header)


def _break_medmcqa(draw, row: dict, csv: bool) -> tuple[str, ...]:
    return _break_field(draw, row, csv, fields=["question", "opa", "opd", "cop"], answer="cop",
                        csv_bad_answers=["9", "E", "-1", "1.0"],
                        bad_answers=[None, True, 1.5, [1], {}, "", "E", 9, -1, "AB"])


@st.composite
def mmlu_rows(draw, form: str, csv: bool = False) -> Rows:
    n = draw(st.integers(1, 6))
    text = CELL if csv else TEXT
    rows, expected = [], []
    subject = draw(st.sampled_from(["anatomy", "clinical_knowledge", "{{ 7*7 }}"]))
    for _ in range(n):
        q = draw(CELL_QUESTION if csv else QUESTION)
        opts = [draw(text) for _ in range(4)]
        k = draw(st.integers(0, 3))
        answer: Any = draw(st.sampled_from([k, "ABCD"[k], str(k), "abcd"[k]]))
        if csv:
            answer = "ABCD"[k]
        if form == "hf":
            row = {"subject": subject, "question": q, "choices": opts, "answer": answer}
        else:
            row = {"question": q, **dict(zip("ABCD", opts, strict=True)), "answer": answer,
                   "subject": subject}
        if not csv:
            row.update(draw(JSON_EXTRAS))
        rows.append(row)
        expected.append((q, tuple(opts), k, subject))
    header = None
    if csv and form == "header":
        header = ["question", "A", "B", "C", "D", "answer", "subject"]
    return Rows(rows, expected, header=header)


def _break_mmlu(draw, row: dict, csv: bool) -> tuple[str, ...]:
    names = ["question", "answer"] + (["choices"] if "choices" in row else ["A", "D"])
    if not csv:
        names.append("subject")
    name = draw(st.sampled_from(names))
    if csv:
        row[name] = draw(st.sampled_from(["", "  "] + (["E", "4", "²", "-1"] if name == "answer"
                                                       else [])))
        return (name,) + (("columns",) if name != "answer" else ())
    how = draw(st.sampled_from(["drop", "type"]))
    if how == "drop":
        del row[name]
        return (name, "A")  # without 'choices' the row is read in the A-D form
    if name == "answer":
        row[name] = draw(st.sampled_from([None, True, 4, -1, 1.5, "E", "²", [0], {}, ""]))
    elif name == "choices":
        row[name] = draw(st.sampled_from([None, "abcd", ["a", "b", "c"], ["a", "b", "c", ""],
                                          ["a", "b", "c", None], ["a", "b", "c", ["d"]], {}]))
    elif name == "subject":
        row[name] = draw(st.sampled_from([None, "", "  ", 5, ["anatomy"], {}]))
    else:
        row[name] = draw(WRONG_TYPES.filter(lambda v: not isinstance(v, (int, float))
                                            or isinstance(v, bool) or name == "question"))
    return (name,)


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
