"""Medical synonyms and abbreviations, swapped by nlpaug's ReservedAug over our lexicon.

The lexicon (suites/data/medical_lexicon.yaml, `groups:` lists of interchangeable terms
such as myocardial infarction / heart attack / MI) is data, so clinicians can review and
extend it without touching code. Terms that carry a number or a negation ("type 2
diabetes", "non-ST-elevation MI") or characters that nlpaug would read as a regular
expression are left out of the swap pool, since swapping them would change a fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.core.errors import BadInputError
from suites.perturb.guard import extract
from suites.perturb.tokens import ExactTokenizer

DEFAULT_LEXICON = Path(__file__).resolve().parents[1] / "data" / "medical_lexicon.yaml"
_SAFE_TERM = re.compile(r"^[A-Za-z][A-Za-z' -]*[A-Za-z]$")


@dataclass
class Lexicon:
    """Usable synonym groups, and what was set aside from the file and why."""

    groups: list[list[str]]
    path: Path
    groups_in_file: int
    terms_set_aside: dict[str, str]


def _term_ok(term: str) -> str | None:
    """Why `term` cannot be swapped, or None when it can."""
    if not _SAFE_TERM.match(term):
        return "contains digits or symbols"
    facts = extract(term)
    if facts.numbers or facts.negations or facts.units or facts.quantities:
        return "carries a number, unit or negation"
    return None


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Read and validate the lexicon; a malformed group is an error naming its index."""
    path = Path(path) if path is not None else DEFAULT_LEXICON
    if not path.exists():
        raise BadInputError("medical lexicon not found", where=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BadInputError(f"not valid YAML: {exc}", where=str(path)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise BadInputError("expected a mapping with a 'groups' list", where=str(path))
    groups, aside = [], {}
    for index, group in enumerate(data["groups"]):
        where = f"{path}: groups[{index}]"
        if isinstance(group, dict):  # {terms: [...], ...} form
            group = group.get("terms")
        if not isinstance(group, list) or len(group) < 2:
            raise BadInputError("a group must list at least two terms", where=where)
        usable = []
        for term in group:
            if not isinstance(term, str) or not term.strip():
                raise BadInputError(f"terms must be non-empty text, got {term!r}", where=where)
            reason = _term_ok(term.strip())
            if reason:
                aside[term] = reason
            elif term.strip() not in usable:
                usable.append(term.strip())
        if len(usable) >= 2:
            groups.append(usable)
    return Lexicon(groups=groups, path=path, groups_in_file=len(data["groups"]),
                   terms_set_aside=aside)


class SynonymSwapper:
    """ReservedAug over a lexicon, with spacing kept exactly and case kept for
    abbreviations (case-sensitive lookups, so "AS" for aortic stenosis is not "as")."""

    def __init__(self, lexicon: Lexicon, aug_p: float = 0.5) -> None:
        import nlpaug.augmenter.word as naw

        self.lexicon = lexicon
        self._tok = ExactTokenizer()
        self._aug = naw.ReservedAug(reserved_tokens=lexicon.groups, case_sensitive=True,
                                    aug_p=aug_p, aug_min=1, aug_max=10,
                                    tokenizer=self._tok.tokenize,
                                    reverse_tokenizer=self._tok.detokenize)

    def swap(self, text: str) -> str:
        """`text` with some lexicon terms replaced (unchanged when none occurs)."""
        if not text.strip():
            return text
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()):]
        out = self._aug.augment(text.strip())
        result = out[0] if isinstance(out, list) else out
        return lead + result + trail
