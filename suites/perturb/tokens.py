"""A tokenizer for nlpaug that gives the text back exactly, spacing included.

nlpaug's default tokenizer splits "7.5%" into "7", ".", "5%" and its detokenizer joins
them as "7. 5%": the perturbation would change a lab value before any augmenter ran.
This tokenizer keeps words (with inner hyphens, apostrophes, dots and digits) whole,
splits other punctuation off, and remembers the separators of the last text it split,
so the reverse step restores them. nlpaug substitutes token for token, so the count of
tokens is unchanged between the two calls.
"""

from __future__ import annotations

import re

_TOKEN_RE = re.compile(r"[°µμ]?\w(?:[\w’'./%°µμ+-]*[\w%+])?|[^\w\s]")
CONNECT_TOKEN = "nnnnn"  # nlpaug ReservedAug's joiner for multi-word phrases


class ExactTokenizer:
    """`tokenize` / `detokenize` pair bound to one augmenter (not shared across threads)."""

    def __init__(self) -> None:
        self._gaps: list[str] = [""]

    def tokenize(self, text: str) -> list[str]:
        tokens, gaps, last = [], [], 0
        for match in _TOKEN_RE.finditer(text):
            gaps.append(text[last:match.start()])
            tokens.append(match.group(0))
            last = match.end()
        gaps.append(text[last:])
        self._gaps = gaps
        return tokens

    def detokenize(self, tokens: list[str]) -> str:
        gaps = self._gaps
        if len(gaps) != len(tokens) + 1:  # not the text last split: fall back to spaces
            return " ".join(tokens)
        parts = [gaps[0]]
        for token, gap in zip(tokens, gaps[1:]):
            parts.append(token)
            parts.append(gap)
        return "".join(parts).replace(CONNECT_TOKEN, " ")
