"""Clinical entities found in free text by the project's lexicon, normalised and negated.

A hallucination rate needs every clinical entity of a model's output compared with those
of its input: "heart attack" in an impression is supported by "MI" in the findings, and
"pneumothorax" is not supported by "no pneumothorax". The lexicon is data
(suites/data/clinical_entities.yaml: typed groups of a canonical term and its synonyms,
widened by the synonym groups of suites/data/medical_lexicon.yaml), so clinicians review
it without reading code.

Matching and negation are our own code rather than scispaCy or negspacy: both need a
spaCy language model that an offline machine cannot download, and what is needed here is
a longest-match over a few hundred terms and a NegEx-style trigger list (Chapman et al.
2001) scoped to the clause, each a few lines that a test pins down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.core.errors import BadInputError
from harness.core.io import read_yaml

DATA = Path(__file__).resolve().parents[1] / "data"
ENTITY_LEXICON = DATA / "clinical_entities.yaml"
SYNONYM_LEXICON = DATA / "medical_lexicon.yaml"
ENTITY_TYPES = ("DISEASE", "SYMPTOM", "MEDICATION", "PROCEDURE")

_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*")
# NegEx-style triggers: before an entity (within the clause) or right after it.
_PRE_NEGATION = re.compile(
    r"\b(?:no|not|without|denies|denied|negative for|no evidence of|no signs? of|free of|"
    r"absence of|absent|ruled out|rules out|resolution of|resolved|neither|nor|never)\b",
    re.IGNORECASE)
_POST_NEGATION = re.compile(
    r"^\s*(?:is|was|were|are|has been|have been)?\s*(?:ruled out|excluded|absent|resolved|"
    r"not (?:present|seen|identified|detected|visible|shown|demonstrated))\b", re.IGNORECASE)
# Where a negation's scope ends: the clause.
_CLAUSE_END = re.compile(r"[.;:!?\n]|\b(?:but|however|although|though|except|apart from|"
                         r"with|which|who)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """One entity in a text: the canonical term it normalises to, its type, whether the
    text negates it, and where it is (character offsets) as written."""

    canonical: str
    type: str
    negated: bool
    start: int
    end: int
    surface: str

    @property
    def key(self) -> tuple[str, bool]:
        """What support means: the same canonical entity with the same polarity."""
        return (self.canonical, self.negated)

    def describe(self) -> str:
        return f"{'no ' if self.negated else ''}{self.canonical} ({self.type.lower()})"


@dataclass(frozen=True)
class EntityLexicon:
    """term (as matched) -> (canonical, type); `cased` terms match with their case."""

    terms: dict[str, tuple[str, str]]
    cased: frozenset[str]
    longest: int

    def lookup(self, phrase: str) -> tuple[str, str] | None:
        if phrase in self.cased:
            return self.terms[phrase]
        hit = self.terms.get(phrase.lower())
        return hit if hit is not None and phrase.lower() not in self.cased else None


def _groups(raw: object, path: Path) -> dict[str, list[list[str]]]:
    if not isinstance(raw, dict) or not isinstance(raw.get("types"), dict):
        raise BadInputError("expected a mapping with 'types:'", where=str(path))
    out: dict[str, list[list[str]]] = {}
    for etype, groups in raw["types"].items():
        if etype not in ENTITY_TYPES:
            raise BadInputError(f"unknown entity type '{etype}' (known: "
                                f"{', '.join(ENTITY_TYPES)})", where=f"{path}: types")
        if not isinstance(groups, list) or not all(
                isinstance(g, list) and g and all(isinstance(t, str) and t.strip() for t in g)
                for g in groups):
            raise BadInputError("each group must be a non-empty list of terms",
                                where=f"{path}: types.{etype}")
        out[etype] = groups
    return out


def _is_cased(term: str) -> bool:
    return term.isupper() and len(term) <= 5


@cache
def load_lexicon(path: Path = ENTITY_LEXICON,
                 synonyms: Path | None = SYNONYM_LEXICON) -> EntityLexicon:
    """The typed lexicon, each group widened by the synonym groups that share a member."""
    typed = _groups(read_yaml(path, what="clinical entity lexicon"), path)
    extra: list[list[str]] = []
    if synonyms is not None:
        raw = read_yaml(synonyms, what="synonym lexicon")
        extra = [g for g in (raw or {}).get("groups", []) if isinstance(g, list)]
    terms: dict[str, tuple[str, str]] = {}
    cased: set[str] = set()

    def add(term: str, canonical: str, etype: str, origin: str) -> None:
        key = term if _is_cased(term) else term.lower()
        if key in terms and terms[key] != (canonical, etype):
            raise BadInputError(f"term '{term}' is in two groups ('{terms[key][0]}' and "
                                f"'{canonical}')", where=origin)
        terms[key] = (canonical, etype)
        if _is_cased(term):
            cased.add(term)

    for etype, groups in typed.items():
        for i, group in enumerate(groups):
            canonical = group[0].lower()
            for term in group:
                add(term, canonical, etype, f"{path}: types.{etype}[{i}]")
    for group in extra:
        hits = {terms[k] for t in group for k in (t, t.lower()) if k in terms}
        if len(hits) != 1:  # not a clinical entity here, or ambiguous between two groups
            continue
        canonical, etype = hits.pop()
        for term in group:
            key = term if _is_cased(term) else term.lower()
            if key not in terms:
                add(term, canonical, etype, str(synonyms))
    longest = max(len(_WORD.findall(k)) for k in terms)
    return EntityLexicon(terms, frozenset(cased), longest)


def _negated(text: str, start: int, end: int) -> bool:
    """A negation trigger earlier in the entity's clause, or a post-trigger right after."""
    before = text[:start]
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(before)), default=0)
    if _PRE_NEGATION.search(before[clause_start:]):
        return True
    return bool(_POST_NEGATION.match(text[end:end + 40]))


def find_mentions(text: str, lexicon: EntityLexicon | None = None) -> list[Mention]:
    """Every lexicon entity in `text`, longest match first, left to right."""
    lexicon = lexicon or load_lexicon()
    words = list(_WORD.finditer(text or ""))
    out: list[Mention] = []
    i = 0
    while i < len(words):
        for size in range(min(lexicon.longest, len(words) - i), 0, -1):
            start, end = words[i].start(), words[i + size - 1].end()
            phrase = " ".join(w.group(0) for w in words[i:i + size])
            hit = lexicon.lookup(phrase) or lexicon.lookup(text[start:end])
            if hit is not None:
                out.append(Mention(hit[0], hit[1], _negated(text, start, end), start, end,
                                   text[start:end]))
                i += size
                break
        else:
            i += 1
    return out


def unsupported(output: str, source: str,
                lexicon: EntityLexicon | None = None) -> tuple[list[Mention], list[Mention]]:
    """(the output's distinct entities, those the source does not support).

    Distinct by canonical term and polarity: an impression repeating "pneumonia" states
    one entity. Support is the same canonical entity with the same polarity in the source,
    so a negated finding never supports the asserted one, nor the reverse.
    """
    supported = {m.key for m in find_mentions(source, lexicon)}
    stated: dict[tuple[str, bool], Mention] = {}
    for m in find_mentions(output, lexicon):
        stated.setdefault(m.key, m)
    mentions = list(stated.values())
    return mentions, [m for m in mentions if m.key not in supported]
