"""Row generators for the loader fuzz tests: each benchmark's rows in every published
form, and the ways one row can be broken (a missing field, a wrong type, a blank text, an
answer key out of range)."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from .strategies import (
    CELL_POOL_TEXTS,
    JSON_EXTRAS,
    POOL_TEXTS,
    WRONG_TYPES,
    cell_texts,
    texts,
)

# Examples per test; each example loads 1-3 files, each loader has one or two tests.

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
    # the loader's default cop_base 0 (the Hugging Face form); the 1-based release is read
    # with the option, tested in tests/suites/test_suite_loaders.py
    cops = [draw(st.integers(0, 3)) for _ in range(n)]
    rows, expected = [], []
    for cop in cops:
        q = draw(CELL_QUESTION if csv else QUESTION)
        opts = [draw(text) for _ in range(4)]
        index = cop
        written: Any = str(cop) if csv else cop
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
