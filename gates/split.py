"""Which items choose and which confirm: a deterministic split by item id.

The items that rank checkpoints (and stop training early) must not be the items that
judge the one chosen, or luck on those items is promoted as skill. Each item goes to one
part by a hash of its id alone, so the split needs no stored state, is the same for every
model, every suite sharing the item (medqa and medqa-robust), every re-judge and every
machine, and does not depend on the order or the number of items in the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TypeVar

from gates.result import ItemPart
from harness.core.records import Record

METHOD = "sha256('medgate-split:' + item_id) read as a fraction in [0, 1) < confirm_fraction"

R = TypeVar("R", bound=Record)


def item_fraction(item_id: str) -> float:
    """A uniform number in [0, 1) fixed by the item id."""
    digest = hashlib.sha256(f"medgate-split:{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def confirms(item_id: str, confirm_fraction: float) -> bool:
    """Whether the item is held out for confirmation."""
    return item_fraction(item_id) < confirm_fraction


def part_of(item_id: str, confirm_fraction: float) -> ItemPart:
    if confirm_fraction <= 0:
        return "all"
    return "confirmation" if confirms(item_id, confirm_fraction) else "selection"


def in_part(records: Sequence[R], part: ItemPart, confirm_fraction: float) -> list[R]:
    """The records of the items in `part` ("all": every record)."""
    if part == "all" or confirm_fraction <= 0:
        return list(records)
    held_out = part == "confirmation"
    return [r for r in records if confirms(r.item_id, confirm_fraction) == held_out]


def count_items(item_ids: Iterable[str], confirm_fraction: float) -> dict[str, int]:
    """{"selection": n, "confirmation": n} distinct items."""
    ids = set(item_ids)
    held = sum(confirms(i, confirm_fraction) for i in ids)
    return {"selection": len(ids) - held, "confirmation": held}
