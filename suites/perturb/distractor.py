"""An irrelevant sentence added to the vignette, just before the question it asks.

The sentences (suites/perturb/data/distractors.txt, written for this project) are
clinically neutral; a model whose answer moves when one is added is reading surface
cues. Inserting before the final question keeps the question last, as in MedQA.
"""

from __future__ import annotations

import random
import re
from functools import cache
from pathlib import Path

from harness.core.errors import BadInputError

DISTRACTORS = Path(__file__).parent / "data" / "distractors.txt"
_SENTENCE_START = re.compile(r"(?<=[.!?])\s+(?=[\"'(A-Z])")


@cache
def load_distractors(path: Path = DISTRACTORS) -> tuple[str, ...]:
    if not path.exists():
        raise BadInputError("distractor sentences not found", where=str(path))
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    sentences = tuple(line for line in lines if line and not line.startswith("#"))
    if not sentences:
        raise BadInputError("no distractor sentences", where=str(path))
    return sentences


def add_distractor(question: str, rng: random.Random,
                   sentences: tuple[str, ...] | None = None) -> str:
    """`question` with one sentence inserted before its last sentence when that asks."""
    sentence = rng.choice(sentences or load_distractors())
    text = question.rstrip()
    trail = question[len(text):]
    starts = [m.end() for m in _SENTENCE_START.finditer(text)]
    if text.endswith("?") and starts:
        cut = starts[-1]
        return text[:cut] + sentence + " " + text[cut:] + trail
    return text + " " + sentence + trail
