"""Reading rows from users' files with errors that name file, line and field.

A benchmark file is the user's evidence: a row that cannot be read is an error with its
location, never a row quietly skipped. `datasets` is not used for reading local files
here because its JSON builder reports a schema mismatch without the offending line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError

Row = tuple[str, dict[str, Any]]  # (where: "file:line" or "file[key]", row)


def _open_text(path: Path) -> str:
    if not path.exists():
        raise BadInputError("data file not found", where=str(path))
    if path.is_dir():
        raise BadInputError("expected a file, got a folder", where=str(path))
    try:
        # utf-8-sig: a leading byte-order mark (Excel's CSV export) is not part of the data;
        # newline="": line breaks inside a CSV field or a text reach the item unchanged.
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise BadInputError(f"not UTF-8 text (byte {exc.start})", where=str(path)) from exc


def iter_jsonl(path: Path) -> Iterator[Row]:
    """One JSON object per line; blank lines are allowed, anything else must parse."""
    text = _open_text(path)
    # Split on "\n" only: str.splitlines() also breaks at U+2028, form feeds and other
    # characters that JSON allows unescaped inside a string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInputError(f"broken JSON line ({exc.msg} at column {exc.colno})",
                                where=where) from exc
        except (ValueError, RecursionError) as exc:
            raise BadInputError(f"broken JSON line ({_json_failure(exc)})", where=where) from exc
        if not isinstance(row, dict):
            raise BadInputError(f"expected a JSON object, got {type(row).__name__}", where=where)
        yield where, row


def load_json(path: Path) -> Any:
    text = _open_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON ({exc.msg})",
                            where=f"{path}:{exc.lineno}") from exc
    except (ValueError, RecursionError) as exc:
        raise BadInputError(f"not valid JSON ({_json_failure(exc)})", where=str(path)) from exc


def _is_json_lines(path: Path) -> bool:
    """A .json file that holds one JSON object per line rather than one JSON document: the
    whole text stops parsing at its second line, and its first line is an object."""
    text = _open_text(path)
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data" or exc.lineno < 2:
            return False
        try:
            return isinstance(json.loads(text.split("\n", 1)[0]), dict)
        except (ValueError, RecursionError):
            return False
    except (ValueError, RecursionError):
        return False
    return False


def _json_failure(exc: Exception) -> str:
    """Why json.loads failed beyond a syntax error: nesting or a number too big to read."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc).split(";")[0][:120]


def iter_parquet(path: Path) -> Iterator[Row]:
    """Rows of a Parquet file (the Hugging Face hub's form of a dataset split), as plain
    Python values; row numbers count from 0 like the dataset's own indices.

    pyarrow reads it (pandas and datasets read Parquet through it too); imported here, as
    the other heavy libraries are, so commands that read no Parquet do not pay for it.
    """
    if not path.is_file():
        raise BadInputError("data file not found" if not path.exists()
                            else "expected a file, got a folder", where=str(path))
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise BadInputError(f"not a readable Parquet file ({str(exc).splitlines()[0][:160]})",
                            where=str(path)) from exc
    for index, row in enumerate(table.to_pylist()):
        yield f"{path}[{index}]", row


def iter_rows(path: Path) -> Iterator[Row]:
    """Rows of a .jsonl, a .json (list of objects, or {key: object}), a .csv with header
    or a .parquet file."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from iter_parquet(path)
    elif suffix == ".json" and _is_json_lines(path):
        # MedMCQA's original release ships JSON lines named train.json / dev.json / test.json
        yield from iter_jsonl(path)
    elif suffix == ".json":
        data = load_json(path)
        if isinstance(data, list):
            for index, row in enumerate(data):
                where = f"{path}[{index}]"
                if not isinstance(row, dict):
                    raise BadInputError("expected a JSON object", where=where)
                yield where, row
        elif isinstance(data, dict):
            for key, row in data.items():
                where = f"{path}[{key}]"
                if not isinstance(row, dict):
                    raise BadInputError("expected a JSON object", where=where)
                yield where, {"_key": key, **row}
        else:
            raise BadInputError("expected a JSON list or object at top level", where=str(path))
    elif suffix == ".csv":
        reader = csv.DictReader(io.StringIO(_open_text(path), newline=""))
        for where, row in csv_records(reader, path):
            if None in row:  # DictReader keeps surplus cells under the key None
                raise BadInputError(f"{len(reader.fieldnames or ()) + len(row[None])} cells "
                                    f"but the header has {len(reader.fieldnames or ())}",
                                    where=where)
            yield where, dict(row)
    else:
        yield from iter_jsonl(path)


def csv_records(reader: Any, path: Path) -> Iterator[tuple[str, Any]]:
    """("file:line", record) of a csv reader; the csv module's own errors name the line."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over csv.field_size_limit()
            line = getattr(reader, "reader", reader).line_num  # a DictReader's own lags behind
            raise BadInputError(f"broken CSV ({exc})", where=f"{path}:{line}") from exc
        yield f"{path}:{reader.line_num}", record


def require(row: dict[str, Any], field: str, where: str, types: type | tuple[type, ...] = str) -> Any:
    """The value of a required field, of the expected type, or an error naming it."""
    if field not in row or row[field] is None:
        raise BadInputError(f"missing field '{field}'", where=where)
    value = row[field]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        names = "/".join(t.__name__ for t in _as_tuple(types))
        raise BadInputError(f"field '{field}' must be {names}, got {type(value).__name__}",
                            where=where)
    if isinstance(value, str) and not value.strip():
        raise BadInputError(f"field '{field}' is empty", where=where)
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def digits_as_int(value: Any) -> int | None:
    """An index written as ASCII digits in text (a CSV cell is always text), else None.

    `str.isdigit` alone accepts "²" and "٣", which `int` then rejects or reads as another
    number; a cap on the length keeps a 5000-digit cell from becoming a huge int.
    """
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.isdigit() and len(text) < 10:
        return int(text)
    return None


def item_id(row: dict[str, Any], where: str, *fields: str) -> str:
    """The row's own id where it has one, else its location (stable for an unchanged file)."""
    for field in (*fields, "id", "_key"):
        value = row.get(field)
        if value not in (None, ""):
            return str(value)
    return where.rsplit("/", 1)[-1]


def check_unique(ids: list[str], path: Path) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise BadInputError(f"duplicate item id '{value}'", where=str(path))
        seen.add(value)
