"""Row quality: duplicates, empty rows and over-long rows, counted with their row numbers.

Duplicates are compared after the same normalisation as the overlap check (case,
punctuation and whitespace ignored), so a row repeated with a changed comma still counts:
repeated rows weigh an example several times in training and inflate nothing a reviewer
can see otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from harness.app.preflight.overlap import normalize_words

_MAX_LISTED = 50


def check_quality(train_texts: Iterable[tuple[int, str]], *, max_row_chars: int) -> dict[str, Any]:
    """Counts and (first 50) row numbers of empty, over-long and duplicate rows."""
    empty: list[int] = []
    too_long: list[int] = []
    groups: dict[str, list[int]] = defaultdict(list)
    total = 0
    for row, text in train_texts:
        total += 1
        words = normalize_words(text)
        if not words:
            empty.append(row)
            continue
        if len(text) > max_row_chars:
            too_long.append(row)
        groups[" ".join(words)].append(row)
    duplicate_groups = [rows for rows in groups.values() if len(rows) > 1]
    duplicate_rows = sorted(r for rows in duplicate_groups for r in rows[1:])
    return {
        "rows": total,
        "empty": {"count": len(empty), "rows": empty[:_MAX_LISTED]},
        "over_long": {"count": len(too_long), "rows": too_long[:_MAX_LISTED],
                      "max_row_chars": max_row_chars},
        "duplicates": {"count": len(duplicate_rows), "groups": len(duplicate_groups),
                       "rows": duplicate_rows[:_MAX_LISTED],
                       "first_of_each": sorted(rows[0] for rows in duplicate_groups)[:_MAX_LISTED]},
        "unique_rows": len(groups),
    }
