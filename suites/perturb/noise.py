"""Typing, OCR, random-character and spelling noise, from nlpaug's offline augmenters.

All four run without downloads: KeyboardAug and OcrAug read the maps nlpaug ships,
RandomCharAug needs none, and SpellingAug reads the small medical misspelling list in
suites/perturb/data/spelling_medical.txt (written for this project; nlpaug's own list
maps words like "has" to "is" and "7" to "seven", which changes meaning). The text is
split with `ExactTokenizer` so spacing and values survive; tokens holding digits,
negation cues, number words and units are never drawn, and the guard checks the rest.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache
from pathlib import Path

from suites.perturb.guard import NEGATION_WORDS, NUMBER_WORDS
from suites.perturb.tokens import ExactTokenizer

SPELLING_DICT = Path(__file__).parent / "data" / "spelling_medical.txt"
NOISE_VARIANTS = ("typo_keyboard", "ocr", "char_random", "spelling")

# Tokens the augmenters never touch: anything with a digit, negations ("n't" forms too),
# number words and units short enough to be words of their own.
_PROTECT_REGEX = r"(?i).*\d.*|.*n['’]t|non.*|(mm|mg|mcg|ml|dl|kg|cm|hg|iu|bpm|units?)"
_PROTECTED_WORDS = sorted({w for base in NEGATION_WORDS + NUMBER_WORDS
                           for w in (base, base.capitalize(), base.upper())})


def _keyboard(tok: ExactTokenizer):
    import nlpaug.augmenter.char as nac

    return nac.KeyboardAug(aug_char_p=0.1, aug_word_p=0.1, aug_char_max=2, include_numeric=False,
                           include_special_char=False, include_upper_case=False,
                           stopwords=_PROTECTED_WORDS, stopwords_regex=_PROTECT_REGEX,
                           tokenizer=tok.tokenize, reverse_tokenizer=tok.detokenize)


def _ocr(tok: ExactTokenizer):
    import nlpaug.augmenter.char as nac

    aug = nac.OcrAug(aug_char_p=0.1, aug_word_p=0.1, aug_char_max=2,
                     stopwords=_PROTECTED_WORDS, stopwords_regex=_PROTECT_REGEX,
                     tokenizer=tok.tokenize, reverse_tokenizer=tok.detokenize)
    # OCR confusions between letters and digits (l/1, O/0, S/5) would write new numbers
    # into the vignette; keep letter-for-letter confusions only.
    aug.model.model = {k: [v for v in vs if not v.isdigit()]
                       for k, vs in aug.model.model.items() if not k.isdigit()}
    return aug


def _char_random(tok: ExactTokenizer):
    import nlpaug.augmenter.char as nac

    return nac.RandomCharAug(action="substitute", aug_char_p=0.1, aug_word_p=0.1,
                             aug_char_max=2, include_numeric=False, include_upper_case=False,
                             spec_char="", stopwords=_PROTECTED_WORDS,
                             stopwords_regex=_PROTECT_REGEX,
                             tokenizer=tok.tokenize, reverse_tokenizer=tok.detokenize)


def _spelling(tok: ExactTokenizer):
    import nlpaug.augmenter.word as naw

    aug = naw.SpellingAug(dict_path=str(SPELLING_DICT), aug_p=0.15, aug_max=6,
                          include_reverse=False, stopwords=_PROTECTED_WORDS,
                          tokenizer=tok.tokenize, reverse_tokenizer=tok.detokenize)
    # nlpaug de-duplicates each word's misspellings through a set, so their order (and the
    # seeded draw among them) would change with the process's string hash seed
    aug.model.dict = {word: sorted(values) for word, values in aug.model.dict.items()}
    return aug


_FACTORIES: dict[str, Callable] = {
    "typo_keyboard": _keyboard,
    "ocr": _ocr,
    "char_random": _char_random,
    "spelling": _spelling,
}


@cache
def _augmenter(variant: str):
    tok = ExactTokenizer()
    return _FACTORIES[variant](tok)


def add_noise(text: str, variant: str) -> str:
    """One noisy copy of `text`; call inside `seeding.seeded` for a reproducible draw."""
    if variant not in _FACTORIES:
        raise KeyError(f"unknown noise variant {variant!r}")
    if not text.strip():
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()):]
    aug = _augmenter(variant)
    # The word after a number is its unit ("2 hours", "5 mg"): protect it for this text.
    tokens = ExactTokenizer().tokenize(text)
    after_numbers = {b for a, b in itertools.pairwise(tokens) if any(c.isdigit() for c in a)}
    aug.stopwords = _PROTECTED_WORDS + sorted(after_numbers)
    out = aug.augment(text.strip())
    result = out[0] if isinstance(out, list) else out
    return lead + result + trail

