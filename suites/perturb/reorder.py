"""Answer options in a different order, with the gold answer following its text.

A model that picks "the first plausible letter" rather than the right content shows it
here. The permutation is a derangement (no option keeps its letter), so every item,
whatever letter its answer had, is tested.
"""

from __future__ import annotations

import random

from suites.base import MCItem


def permute_options(item: MCItem, rng: random.Random) -> tuple[MCItem, list[int]]:
    """A copy of `item` with shuffled options and the map new index -> clean index."""
    n = len(item.options)
    order = list(range(n))
    if n > 1:
        while any(i == j for i, j in enumerate(order)):
            rng.shuffle(order)
    options = tuple(item.options[i] for i in order)
    return (MCItem(item_id=item.item_id, question=item.question, options=options,
                   answer=order.index(item.answer), context=item.context,
                   subject=item.subject, meta=dict(item.meta)), order)
