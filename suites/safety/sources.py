"""MedSafetyBench's files as published: harmful medical requests with reference safe answers.

MedSafetyBench (Han et al., NeurIPS 2024 Datasets and Benchmarks, MIT licence) ships
`datasets/{test,train}/{gpt4,llama2}/med_safety_demonstrations_category_<N>.csv`: a pandas
index column whose header cell is empty, then `harmful_medical_request` and
`safe_response`. N is one of the nine AMA Principles of Medical Ethics, in order. The files
are read here as they are, so a user points medgate at the repository's folder rather
than converting it, and the same reader serves the safety suite (test requests) and
training (the train demonstrations).

Reading is strict because these files are evidence: a line with the wrong number of
cells, a missing or empty request, an unknown column, a category outside 1-9 or a CSV in
the folder that is not a category file is an error naming the file and line. The index
column is kept as the row's `source_index`, the safe response as its reference answer.
`csv` rather than pandas: pandas shifts a row with a surplus cell into its index without
a word, and reports neither the line of a bad row nor which file it was in.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError
from suites.loaders.common import _open_text, csv_records, iter_jsonl, require

# The nine AMA Principles of Medical Ethics in the AMA's order (I to IX), which is the
# order of MedSafetyBench's category_1 ... category_9 files.
CATEGORIES = (
    "competent_compassionate_care_dignity",   # I    competent care, compassion, dignity
    "professionalism_honesty",                # II   professionalism, honesty
    "respect_for_law",                        # III  respect the law
    "patient_rights_confidentiality",         # IV   patients' rights, confidentiality
    "scientific_knowledge_evidence",          # V    scientific knowledge
    "freedom_to_choose_except_emergencies",   # VI   free to choose, except in emergencies
    "community_public_health",                # VII  community and public health
    "responsibility_to_patient_paramount",    # VIII responsibility to the patient paramount
    "access_to_care_for_all",                 # IX   access to medical care for all
)
UNCATEGORISED = "uncategorised"
REQUEST = "harmful_medical_request"
RESPONSE = "safe_response"
_OPTIONAL = (RESPONSE, "category")
_INDEX_HEADERS = ("", "Unnamed: 0")  # how pandas writes, and re-reads, an unnamed index
_CATEGORY_FILE = re.compile(r"category_(\d+)\.csv$", re.IGNORECASE)
_TRAINING_PARTS = ("train", "training")


@dataclass(frozen=True)
class Demonstration:
    """One harmful request, where it was read, and its reference safe answer if given."""

    item_id: str
    where: str  # "file:line"
    request: str
    safe_response: str | None
    category: str
    source_index: str | None = None


def is_category_file(path: Path) -> bool:
    return path.suffix.lower() == ".csv" and _CATEGORY_FILE.search(path.name) is not None


def file_category(path: Path) -> str | None:
    """The principle a `...category_<N>.csv` file holds; an N outside 1-9 is an error."""
    match = _CATEGORY_FILE.search(path.name)
    if match is None:
        return None
    number = int(match.group(1))
    if not 1 <= number <= len(CATEGORIES):
        raise BadInputError(f"unexpected category_{number} file: MedSafetyBench's categories "
                            f"are 1-{len(CATEGORIES)} (the nine AMA Principles of Medical "
                            "Ethics)", where=str(path))
    return CATEGORIES[number - 1]


def _category_value(value: str, where: str) -> str:
    """A `category` cell: one of the nine names or its number 1-9."""
    text = value.strip()
    if text in CATEGORIES:
        return text
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(CATEGORIES):
        return CATEGORIES[int(text) - 1]
    raise BadInputError(f"field 'category' is {value!r}: expected 1-{len(CATEGORIES)} or "
                        f"one of {', '.join(CATEGORIES)}", where=where)


def _columns(header: list[str], where: str) -> dict[str, int]:
    """Column positions by name; the unnamed first column is the index (`_index`)."""
    positions: dict[str, int] = {}
    for number, name in enumerate(header):
        key = name.strip()
        if number == 0 and key in _INDEX_HEADERS:
            key = "_index"
        elif key not in (REQUEST, *_OPTIONAL):
            shown = f"'{name}'" if key else f"an unnamed column (column {number + 1})"
            raise BadInputError(f"unknown column {shown}: a MedSafetyBench file has an "
                                f"unnamed index column, '{REQUEST}', '{RESPONSE}' and "
                                "optionally 'category'", where=where)
        if key in positions:
            raise BadInputError(f"column '{name}' appears twice", where=where)
        positions[key] = number
    if REQUEST not in positions:
        raise BadInputError(f"missing column '{REQUEST}' (the header has {header})",
                            where=where)
    return positions


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, cells) for every non-blank record of a CSV file."""
    reader = csv.reader(io.StringIO(_open_text(path), newline=""))
    last_line = 0
    for _, cells in csv_records(reader, path):
        first, last_line = last_line + 1, reader.line_num
        if cells and any(cell.strip() for cell in cells):
            yield first, cells
        elif cells:  # a line of only separators or spaces: a row the user meant, emptied
            raise BadInputError("a row with every cell empty", where=f"{path}:{first}")


def read_csv(path: Path, name: str | None = None) -> list[Demonstration]:
    """The demonstrations of one MedSafetyBench CSV; `name` (its path relative to the
    folder given) starts every item id, so ids are stable for unchanged files."""
    name = name or path.name
    from_file = file_category(path)
    rows = _lines(path)
    first = next(rows, None)
    if first is None:
        raise BadInputError("empty CSV file (no header)", where=str(path))
    columns = _columns(first[1], f"{path}:{first[0]}")
    out = []
    for number, (line, cells) in enumerate(rows, start=1):
        where = f"{path}:{line}"
        if len(cells) != len(first[1]):
            raise BadInputError(f"{len(cells)} cells but the header has {len(first[1])}",
                                where=where)
        row = {key: cells[pos] for key, pos in columns.items()}
        request = require(row, REQUEST, where)
        category = from_file or UNCATEGORISED
        if row.get("category", "").strip():
            category = _category_value(row["category"], where)
            if from_file and category != from_file:
                raise BadInputError(f"field 'category' is {category} but the file name says "
                                    f"{from_file}", where=where)
        response = row.get(RESPONSE, "")
        out.append(Demonstration(item_id=f"{name}#{number}", where=where, request=request,
                                 safe_response=response if response.strip() else None,
                                 category=category, source_index=row.get("_index")))
    if not out:
        raise BadInputError("no rows below the header", where=str(path))
    return out


def category_files(folder: Path) -> list[Path]:
    """Every `*category_<N>.csv` under `folder`, sorted by relative path; any other CSV
    there is an error (it would otherwise be left out without a word)."""
    csvs = sorted((p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() == ".csv"),
                  key=lambda p: p.relative_to(folder).as_posix())
    others = [p for p in csvs if not is_category_file(p)]
    if others:
        raise BadInputError(f"CSV file without category_<N> in its name in a MedSafetyBench "
                            f"folder ({len(others)} such file(s)); name it after its category "
                            "or move it out", where=str(others[0]))
    if not csvs:
        raise BadInputError("no MedSafetyBench files (*category_<N>.csv) in this folder",
                            where=str(folder))
    return csvs


def read_folder(folder: Path, *, purpose: str = "evaluation") -> list[Demonstration]:
    """Every category CSV under `folder` (MedSafetyBench's `datasets/test`, one model's
    folder in it, or any folder of category files), in path order.

    A folder holding the other split's files is refused: evaluation refuses `train/`
    (scoring the model on demonstrations it may be trained on measures nothing) and
    training refuses `test/` (it would hollow out the safety gate); point at the split."""
    other = {"evaluation": _TRAINING_PARTS, "training": ("test",)}[purpose]
    out = []
    for path in category_files(folder):
        relative = path.relative_to(folder).as_posix()
        parts = {part.lower() for part in Path(relative).parts[:-1]}
        if parts & set(other):
            split = "datasets/test" if purpose == "evaluation" else "datasets/train"
            raise BadInputError(f"a file of the other split in the folder given for {purpose}: "
                                f"point at MedSafetyBench's {split} (or a model folder in it)",
                                where=str(path))
        out.extend(read_csv(path, relative))
    return out


def _jsonl_demonstrations(path: Path) -> list[Demonstration]:
    out = []
    for number, (where, row) in enumerate(iter_jsonl(path), start=1):
        unknown = sorted(set(row) - {"id", REQUEST, *_OPTIONAL})
        if unknown:
            raise BadInputError(f"unknown field '{unknown[0]}' in a MedSafetyBench row "
                                f"(fields: id, {REQUEST}, {RESPONSE}, category)", where=where)
        request = require(row, REQUEST, where)
        response = row.get(RESPONSE)
        if response is not None and not isinstance(response, str):
            raise BadInputError(f"field '{RESPONSE}' must be text", where=where)
        category = row.get("category")
        out.append(Demonstration(
            item_id=str(row["id"]) if row.get("id") not in (None, "") else f"{path.name}#{number}",
            where=where, request=request,
            safe_response=response if response and response.strip() else None,
            category=_category_value(str(category), where) if category not in (None, "")
            else UNCATEGORISED))
    return out


def _first_jsonl_row(path: Path) -> dict[str, Any] | None:
    for _, row in iter_jsonl(path):
        return row
    return None


def is_medsafetybench(path: Path) -> bool:
    """Whether `path` holds MedSafetyBench-shaped data (a folder, a CSV, or JSON Lines
    whose rows carry `harmful_medical_request`) rather than medgate's own safety rows."""
    if path.is_dir() or path.suffix.lower() == ".csv":
        return True
    first = _first_jsonl_row(path)
    return first is not None and REQUEST in first


def read_demonstrations(path: Path | str, *, purpose: str = "evaluation") -> list[Demonstration]:
    """A MedSafetyBench folder, one of its CSVs, or JSON Lines with its fields; `purpose`
    (evaluation or training) says which split a folder must not hold."""
    path = Path(path)
    if not path.exists():
        raise BadInputError("data file or folder not found", where=str(path))
    if path.is_dir():
        found = read_folder(path, purpose=purpose)
    elif path.suffix.lower() == ".csv":
        found = read_csv(path)
    else:
        found = _jsonl_demonstrations(path)
    if not found:
        raise BadInputError("no rows", where=str(path))
    seen: dict[str, str] = {}
    for demo in found:
        if demo.item_id in seen:
            raise BadInputError(f"duplicate id '{demo.item_id}' (first at {seen[demo.item_id]})",
                                where=demo.where)
        seen[demo.item_id] = demo.where
    return found


def safety_rows(path: Path | str) -> list[dict[str, Any]]:
    """MedSafetyBench demonstrations as the safety suite's rows: every one a harmful
    request, its safe response and location kept for reviewers."""
    rows = []
    for demo in read_demonstrations(path):
        row: dict[str, Any] = {"id": demo.item_id, "category": demo.category,
                               "kind": "harmful", "critical_decision": False,
                               "prompt": demo.request, "source": demo.where}
        if demo.safe_response is not None:
            row["safe_response"] = demo.safe_response
        if demo.source_index is not None:
            row["source_index"] = demo.source_index
        rows.append(row)
    return rows
