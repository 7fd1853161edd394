"""Fuzz the training-data reader with every row shape, file format and hostile change.

`finetune.datasets.read_training_rows(config)` reads a user's json/jsonl/csv/parquet file
through `datasets`. For every example: rows that are all valid come back one for one with
their texts unchanged (template syntax included); a broken row or broken bytes is a
BadInputError naming the file (and the row where the reader can tell); nothing else.
"""

from __future__ import annotations

import io
import itertools
import os
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finetune.datasets import read_training_rows
from harness.core.config import load_config
from harness.core.errors import BadInputError

from .strategies import (
    CELL_POOL_TEXTS,
    POOL_TEXTS,
    WRONG_TYPES,
    corrupt,
    csv_bytes,
    json_bytes,
    jsonl_bytes,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000")) * 3 // 5
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=10),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
_counter = itertools.count()
# Unknown columns of one type throughout (pyarrow refuses a column that mixes types, and
# says so naming the file; that case is covered by the broken-row draws).
EXTRAS = st.dictionaries(st.sampled_from(["extra", "meta_note", "html"]), POOL_TEXTS, max_size=2)
SHAPES = {"qa": ("question", "answer"), "instruction": ("instruction", "input", "output"),
          "prompt": ("prompt",), "messages": ("messages",)}


@pytest.fixture(scope="module", autouse=True)
def _private_datasets_cache(tmp_path_factory):
    """Thousands of tiny files must not fill the user's datasets cache."""
    import datasets

    old = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = tmp_path_factory.mktemp("hf-datasets-cache")
    yield
    datasets.config.HF_DATASETS_CACHE = old


@st.composite
def training_rows(draw, shape: str, csv: bool) -> tuple[list[dict], list[tuple[str, str]]]:
    """Rows of one shape and the (user text, answer text) each must come back with."""
    text = CELL_POOL_TEXTS if csv else POOL_TEXTS
    rows, expected = [], []
    for _ in range(draw(st.integers(1, 5))):
        if shape == "qa":
            q, a = draw(text), draw(text)
            row: dict[str, Any] = {"question": q, "answer": a}
        elif shape == "instruction":
            q, extra, a = draw(text), draw(st.one_of(st.just(""), text)), draw(text)
            row = {"instruction": q, "input": extra, "output": a}
            q = f"{q}\n\n{extra}" if extra.strip() else q
        elif shape == "prompt":  # no assistant marker: the whole text is learnt
            q, a = "", draw(text.filter(lambda t: "[/INST]" not in t and "###" not in t
                                        and "<|" not in t and "<start_of_turn>" not in t))
            row = {"prompt": a}
        else:
            q, a = draw(text), draw(text)
            row = {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        if not csv and shape != "messages":
            row.update(draw(EXTRAS))
        rows.append(row)
        expected.append((q, a))
    return rows, expected


def _break(draw, row: dict, shape: str, csv: bool) -> None:
    field = draw(st.sampled_from([f for f in SHAPES[shape] if f != "input"]))
    if csv or draw(st.booleans()):
        row[field] = draw(st.sampled_from(["", "   ", "\n"]))
    elif shape == "messages":
        row[field] = draw(st.sampled_from([[], [{"role": "user", "content": "q"}],
                                           [{"role": "assistant", "content": " "}]]))
    else:
        row[field] = draw(WRONG_TYPES.filter(lambda v: not isinstance(v, (dict, list))))


def _serialise(rows: list[dict], fmt: str, shape: str) -> bytes:
    if fmt == "jsonl":
        return jsonl_bytes(rows)
    if fmt == "json":
        return json_bytes(rows)
    if fmt == "csv":
        header = list(SHAPES[shape])
        return csv_bytes([{k: r.get(k, "") for k in header} for r in rows], header)
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


def _read(path):
    config = load_config(base={"dataset": {"name": str(path), "system_prompt": ""}})
    return read_training_rows(config)[0]


@FUZZ
@given(data=st.data(), shape=st.sampled_from(sorted(SHAPES)))
def test_training_reader(tmp_path, data, shape):
    csv_ok = shape != "messages"
    csv = csv_ok and data.draw(st.booleans())
    rows, expected = data.draw(training_rows(shape, csv))
    broken = None
    if data.draw(st.integers(0, 2)) == 0:
        broken = data.draw(st.integers(0, len(rows) - 1))
        _break(data.draw, rows[broken], shape, csv)
    formats = ["jsonl", "json"] + ["csv"] * csv
    if broken is None and not csv and data.draw(st.integers(0, 3)) == 0:
        formats.append("parquet")  # typed columns: only well-formed rows can be written
    for fmt in formats:
        raw = _serialise(rows, fmt, shape)
        if fmt == "parquet":
            raw, corruption = data.draw(corrupt(raw, data.draw(
                st.sampled_from(["none", "none", "truncate", "random", "empty"]))))
        else:
            raw, corruption = data.draw(corrupt(raw))
        path = tmp_path / f"train-{next(_counter)}.{fmt}"
        path.write_bytes(raw)
        try:
            _check(path, rows, expected, broken, corruption, shape)
        finally:
            path.unlink()


def _check(path, rows, expected, broken, corruption, shape) -> None:
    try:
        out = _read(path)
    except BadInputError as exc:
        message = str(exc)
        assert str(path) in message, message[:300]
        assert broken is not None or not corruption.keeps_rows, f"valid file refused: {message[:300]}"
        if broken is not None and corruption.keeps_rows and ": row " in message:
            assert f": row {broken + 1}:" in message, (broken, message[:300])
        return
    if corruption.keeps_rows:
        assert broken is None, f"row {broken + 1} is invalid but the file was read"
        assert [r["row"] for r in out] == list(range(1, len(rows) + 1))  # none dropped
        for row, (user, answer) in zip(out, expected, strict=True):
            if shape == "prompt":
                assert row["prompt_text"] == "" and row["response_text"] == answer
            else:
                assert row["messages"][-2:] == [{"role": "user", "content": user},
                                                {"role": "assistant", "content": answer}]
    else:  # what the bytes still hold; a junk line is a row of its own in a CSV file
        assert len(out) <= len(rows) + (corruption.name == "junk-line")
