"""Where medgate keeps what it can make again: result cache, dequantized model copies,
difficulty scores. One place, so that MEDGATE_CACHE moves all of it."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """$MEDGATE_CACHE, or ~/.cache/medgate."""
    return Path(os.environ.get("MEDGATE_CACHE") or Path.home() / ".cache" / "medgate")
