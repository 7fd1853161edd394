"""Deterministic randomness for augmenters that draw from the global generators.

nlpaug samples with the `random` module and NumPy's global state and offers no seed
argument, so each call runs inside `seeded(...)`: the global states are set from
(seed, item_id, variant) and restored afterwards, which makes a variant reproducible on
its own and leaves every other user of the global generators undisturbed.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
from collections.abc import Iterator

import numpy as np


def derive_seed(seed: int, item_id: str, variant: str) -> int:
    """A 32-bit seed that depends only on the run seed, the item and the variant."""
    digest = hashlib.sha256(f"{seed}\x1f{item_id}\x1f{variant}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


@contextlib.contextmanager
def seeded(value: int) -> Iterator[random.Random]:
    """Seed `random` and NumPy's global state for the block; yield a private Random too."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    random.seed(value)
    np.random.seed(value)
    try:
        yield random.Random(value)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
