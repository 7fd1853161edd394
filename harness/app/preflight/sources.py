"""The inputs a model learns from or is validated on, scanned one by one and combined.

Training reads more than the main training file: general-domain replay rows are mixed
into the batches and a validation file or split decides early stopping. Replay rows that
contain a suite's items would hollow out the forgetting gate as surely as the main file
would, so each input is scanned (PHI, overlap with every suite, row quality) on its own,
its row numbers stay those of its own file, and the findings are combined here with the
input named beside every row number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The recipes' inputs (finetune.recipes.preflight) are named "mixture:<source>",
# "regulariser" and "augmented".
ROLES = ("train", "replay", "validation", "mixture", "regulariser", "augmented")
_MAX_EXAMPLES = 5


@dataclass(frozen=True)
class TrainingSource:
    """Rows of one input: its role in training, where it was read from, (row, text)."""

    role: str
    where: str
    rows: list[tuple[int, str]]


def merge_phi(per_source: Mapping[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """PHI per type over every input: totals, masked examples and, per input, the counts
    and row numbers (`by_source`). Types with no finding stay listed with count 0."""
    merged: dict[str, dict[str, Any]] = {}
    for role, report in per_source.items():
        for phi_type, entry in report.items():
            out = merged.setdefault(phi_type, {"count": 0, "rows_total": 0, "examples": [],
                                               "by_source": {}})
            out["count"] += entry["count"]
            out["rows_total"] += entry["rows_total"]
            for example in entry["examples"]:
                if len(out["examples"]) < _MAX_EXAMPLES and example not in out["examples"]:
                    out["examples"].append(example)
            if entry["count"]:
                out["by_source"][role] = {"count": entry["count"], "rows": entry["rows"],
                                          "rows_total": entry["rows_total"]}
    return merged


def merge_overlap(per_source: Mapping[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per suite: the items any input contains, how (exact in any input wins over n-gram),
    and per item the rows of each input that hold it (`rows`: item -> role -> rows)."""
    merged: dict[str, dict[str, Any]] = {}
    for role, report in per_source.items():
        for suite, entry in report.items():
            out = merged.setdefault(suite, {
                "items_checked": entry["items_checked"], "items": [], "kinds": {}, "rows": {},
                "by_source": {}, "template_ngrams_ignored": entry["template_ngrams_ignored"]})
            out["by_source"][role] = entry["n"]
            for item in entry["items"]:
                kind = entry["kinds"][item]
                if out["kinds"].get(item) != "exact":
                    out["kinds"][item] = kind
                out["rows"].setdefault(item, {})[role] = entry["train_rows"][item]
    for entry in merged.values():
        entry["items"] = sorted(entry["kinds"])
        entry["n"] = len(entry["items"])
        entry["exact"] = sum(1 for k in entry["kinds"].values() if k == "exact")
        entry["ngram"] = entry["n"] - entry["exact"]
    return merged


def rows_text(rows: list[int], total: int, shown: int = 10) -> str:
    listed = ", ".join(str(r) for r in rows[:shown])
    more = total - min(len(rows), shown)
    return f"row{'s' if total != 1 else ''} {listed}" + (f" and {more} more" if more > 0 else "")


def phi_summary(phi: dict[str, dict[str, Any]]) -> str:
    """`2 name (train: rows 3, 9; replay: row 4)` per type found."""
    parts = []
    for phi_type, entry in phi.items():
        if entry["count"]:
            where = "; ".join(f"{role}: {rows_text(found['rows'], found['rows_total'])}"
                              for role, found in entry["by_source"].items())
            parts.append(f"{entry['count']} {phi_type} ({where})")
    return "; ".join(parts)


def overlap_summary(overlap: dict[str, dict[str, Any]], n: int) -> str:
    """`general: 3 of 50 (3 exact, 0 by 13-gram; in replay 3)` per suite with overlap."""
    parts = []
    for suite, e in overlap.items():
        if e["n"]:
            inputs = ", ".join(f"{role} {count}" for role, count in e["by_source"].items()
                               if count)
            parts.append(f"{suite}: {e['n']} of {e['items_checked']} ({e['exact']} exact, "
                         f"{e['ngram']} by {n}-gram; in {inputs})")
    return "; ".join(parts)
