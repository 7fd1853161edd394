"""Train/test overlap: which evaluation items the training data already contains.

The method contamination studies use (GPT-3, Brown et al. 2020, appendix C; PaLM; Llama 2):
text is lower-cased, Unicode-normalised and split into words on everything that is not a
letter or digit, and an evaluation item is *contaminated* when it shares at least one word
13-gram with any training row. Two refinements:

- `exact`: the item's whole normalised text occurs in a training row (the row is the item,
  or contains it verbatim). Items shorter than n words can only be caught this way, and
  only from MIN_CONTAINED_WORDS words up: a four-word question inside a long training row
  is coincidence more often than leakage.
- Template n-grams: an n-gram shared by at least half of a suite's distinct items (and at
  least 3 of them) is the suite's prompt boilerplate, not an item, and is not counted
  (GPT-3 likewise dropped overly frequent n-grams).

No library does this offline for arbitrary text (lm-eval's decontamination needs a
pre-built n-gram index of the training corpus on disk), and it is a few dozen lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

MIN_CONTAINED_WORDS = 8
_MAX_ROWS_LISTED = 10
_WORD = re.compile(r"[^\W_]+")


def normalize_words(text: str) -> list[str]:
    """Lower-cased words, punctuation and whitespace ignored, Unicode compatibility-folded."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _contains(haystack: list[str], needle: list[str]) -> bool:
    joined = " " + " ".join(haystack) + " "
    return (" " + " ".join(needle) + " ") in joined


def find_overlap(train_texts: Iterable[tuple[int, str]],
                 eval_items: dict[str, list[tuple[str, str]]],
                 *, n: int = 13) -> dict[str, dict[str, Any]]:
    """Per suite: the contaminated item ids, how (exact or ngram) and which training rows.

    Every suite given appears in the result, with `items_checked`, so a suite with no
    overlap is visibly checked rather than absent.
    """
    train_texts = list(train_texts)
    # index: n-gram -> [(suite, item_id)], and short items by their word tuple
    index: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
    short: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
    item_words: dict[tuple[str, str], list[str]] = {}
    result: dict[str, dict[str, Any]] = {}
    templates: dict[str, int] = {}
    for suite, items in eval_items.items():
        result[suite] = {"items_checked": len(items), "items": [], "n": 0,
                         "kinds": {}, "train_rows": {}}
        per_gram: dict[tuple[str, ...], set[str]] = defaultdict(set)
        distinct: dict[str, list[str]] = {}
        for item_id, text in items:
            words = normalize_words(text)
            key = (suite, item_id)
            item_words[key] = words
            distinct.setdefault(" ".join(words), words)
            if len(words) < n:
                if len(words) >= MIN_CONTAINED_WORDS:
                    short[tuple(words)].append(key)
                continue
            for gram in ngrams(words, n):
                index[gram].append(key)
                per_gram[gram].add(" ".join(words))
        floor = max(3, (len(distinct) + 1) // 2)
        boiler = {g for g, texts in per_gram.items() if len(texts) >= floor}
        templates[suite] = len(boiler)
        for gram in boiler:
            index[gram] = [k for k in index[gram] if k[0] != suite]
    short_lengths = sorted({len(k) for k in short})

    hits: dict[tuple[str, str], set[int]] = defaultdict(set)
    for row, text in train_texts:
        words = normalize_words(text)
        for gram in ngrams(words, n):
            for key in index.get(gram, ()):
                hits[key].add(row)
        for length in short_lengths:
            for i in range(len(words) - length + 1):
                for key in short.get(tuple(words[i:i + length]), ()):
                    hits[key].add(row)

    rows_text: dict[int, list[str]] = {}
    needed = {r for rs in hits.values() for r in rs}
    if needed:
        for row, text in train_texts:
            if row in needed and row not in rows_text:
                rows_text[row] = normalize_words(text)
    for (suite, item_id), rows in sorted(hits.items()):
        words = item_words[(suite, item_id)]
        exact = any(_contains(rows_text[r], words) for r in rows)
        entry = result[suite]
        entry["items"].append(item_id)
        entry["kinds"][item_id] = "exact" if exact else "ngram"
        entry["train_rows"][item_id] = sorted(rows)[:_MAX_ROWS_LISTED]
    for suite, entry in result.items():
        entry["n"] = len(entry["items"])
        entry["exact"] = sum(1 for k in entry["kinds"].values() if k == "exact")
        entry["ngram"] = entry["n"] - entry["exact"]
        entry["template_ngrams_ignored"] = templates[suite]
    return result
