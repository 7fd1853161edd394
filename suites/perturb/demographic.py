"""Demographic context changed where the right answer should not depend on it.

The `demographic` variant changes sex (nouns, titles, pronouns, together so the vignette
stays coherent) and ethnicity, and keeps every number: the meaning guard checks it like
every other variant. Items whose answer can hinge on sex or ancestry are left alone and
counted as not applicable: anything about pregnancy, sex-specific anatomy or hormones,
X-linked or ancestry-linked disease.

The patient's age is a number, and a number that can change the answer: 35 in pregnancy,
40 and 50 for screening, 65 for vaccination and dosing. Shifting it is the opt-in
`age_shift` variant (`age_shift_proposal`): adult ages only, never in items about
age-driven decisions (screening, vaccination, milestones), and its results are reported
apart from the meaning-preserving variants because it changes the question.

Word lists rather than a coreference model: the vignettes are short, single-patient
texts, and spaCy's models cannot be downloaded here.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from suites.perturb.guard import ADULT_BAND

SEX_DEPENDENT = re.compile(
    r"pregnan|gestation|trimester|obstetr|gravida|\bG\d+\s?P\d+|postpartum|post-partum|"
    r"menstru|menses|menarche|menopaus|amenorrh|dysmenorrh|ovar|uter|endometri|cervix|"
    r"cervical (?:cancer|dysplasia|smear|screening|os)|vagin|vulv|labia|breast|mammo|lactat|"
    r"placent|fet(?:al|us)|prostat|testi(?:s|cle|cular|es)|scrot|penis|penile|erectile|"
    r"sperm|semen|infertil|contracept|estrogen|oestrogen|progest|testosterone|androgen|"
    r"turner|klinefelter|x-linked|hemophilia|haemophilia|duchenne|fragile x|\bpap\b|\bhpv\b|"
    r"circumcis|gyn(?:a)?ec|hysterect|miscarriage|abortion|ectopic|eclampsia|pcos|\bbrca|"
    r"transgender|nonbinary|gender|hcg|prolactin|galactorrh|hirsut|mastectomy|orchi|"
    r"epididym|urethral discharge|delivery|labor\b|labour\b|neonat|newborn|infant|sex\b",
    re.IGNORECASE)
ANCESTRY_DEPENDENT = re.compile(
    r"sickle|thalass|g6pd|tay-sachs|ashkenaz|gaucher|cystic fibrosis|lactose|hemochromat|"
    r"kawasaki|beh[cç]et|sarcoid|keloid|melanoma|skin cancer|sunburn|\bhla\b|ethnic|race\b|"
    r"racial|ancestry|descent|immigra|travel",
    re.IGNORECASE)
AGE_DEPENDENT = re.compile(
    r"screen|vaccin|immuniz|immunis|health maintenance|well-child|routine (?:exam|visit|check)|"
    r"milestone|development|guideline|recommend(?:ed)? (?:age|interval)|preventive|"
    r"retire|elderly|geriatric|adolescen|puberty|child|pediatric|paediatric",
    re.IGNORECASE)

_SEX_PAIRS = [
    ("man", "woman"), ("men", "women"), ("male", "female"), ("males", "females"),
    ("boy", "girl"), ("boys", "girls"), ("gentleman", "lady"), ("he", "she"),
    ("himself", "herself"), ("Mr.", "Ms."), ("Mr", "Ms"), ("his", "her"),
]
# "her" maps back to "his" before a noun and to "him" before these (object position).
_OBJECT_FOLLOWERS = {"to", "with", "for", "and", "or", "at", "in", "on", "about", "from", "by", "as", "that", "a", "an", "the", "this", "these", "those", "because", "if", "when", "since", "after", "before", "but", "so", "than", "into", "over", "home", "back", "up", "down", "out", "off", "again", "today", "now", "yesterday", "immediately", "alone", "any", "some"}
# ... and after verbs that take "her" as an object before a noun ("gave her aspirin").
_OBJECT_VERBS = {"gave", "give", "gives", "giving", "handed", "hands", "offered", "offers", "sent", "sends", "brought", "brings", "showed", "shows", "taught", "reassured", "reassures", "bothers", "bothered", "bothering", "wakes", "woke", "lets", "let", "helps", "helped", "made", "makes"}

ETHNICITIES = ["African American", "Caucasian", "Hispanic", "Asian", "Native American",
               "White", "Black", "Latino", "Latina", "Asian American", "Middle Eastern",
               "South Asian", "East Asian", "Pacific Islander"]
_ETHNICITY_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, ETHNICITIES), key=len,
                                                        reverse=True)) + r")\b")
_AGE_RE = re.compile(r"\b(\d{1,3})(?=(?:\s|-)year(?:s)?(?:\s|-)old\b)|(?<=\baged\s)(\d{1,3})\b",
                     re.IGNORECASE)
_WORD_RE = re.compile(r"Mrs?\.|Ms\.|\b[A-Za-z]+\b")


@dataclass
class DemographicPlan:
    """The changes chosen for one item, applied identically to every field of it."""

    to_sex: str | None  # "female" / "male" / None (leave)
    ethnicity: tuple[str, str] | None
    age_shift: int = 0  # years added to every age (the `age_shift` variant only)


def not_applicable_reason(texts: list[str]) -> str | None:
    """Why an item must keep its demographics (None: it may be changed)."""
    joined = "\n".join(t for t in texts if t)
    if SEX_DEPENDENT.search(joined):
        return "answer may depend on sex or reproductive status"
    if ANCESTRY_DEPENDENT.search(joined):
        return "answer may depend on ancestry"
    return None


def _detect_sex(text: str) -> str | None:
    words = re.findall(r"[A-Za-z]+", text.lower())
    male = sum(w in {"man", "men", "male", "boy", "he", "him", "his", "himself", "gentleman",
                     "mr"} for w in words)
    female = sum(w in {"woman", "women", "female", "girl", "she", "her", "hers", "herself",
                       "lady", "ms", "mrs"} for w in words)
    if male and not female:
        return "male"
    if female and not male:
        return "female"
    return None  # both or neither: a second person is involved, leave sex alone


def plan(texts: list[str], rng: random.Random) -> DemographicPlan:
    """Decide the sex and ethnicity changes for an item whose fields are `texts`."""
    joined = "\n".join(t for t in texts if t)
    sex = _detect_sex(joined)
    to_sex = {"male": "female", "female": "male"}.get(sex or "")
    ethnicity = None
    found = _ETHNICITY_RE.search(joined)
    if found:
        others = [e for e in ETHNICITIES if e != found.group(1)]
        ethnicity = (found.group(1), rng.choice(others))
    return DemographicPlan(to_sex=to_sex, ethnicity=ethnicity)


def age_shift_proposal(texts: list[str], rng: random.Random, years: int) -> DemographicPlan:
    """An age shift of up to +-`years` for every age of the item, all of which must lie
    in the adult band before and after; no shift (0) when the item is about an age-driven
    decision or has an age outside the band."""
    joined = "\n".join(t for t in texts if t)
    shift = 0
    ages = [int(a or b) for a, b in _AGE_RE.findall(joined)]
    lo, hi = ADULT_BAND
    if years and ages and not AGE_DEPENDENT.search(joined) and \
            all(lo <= a <= hi for a in ages):
        candidates = [d for d in range(-years, years + 1)
                      if d and all(lo <= a + d <= hi for a in ages)]
        shift = rng.choice(candidates) if candidates else 0
    return DemographicPlan(to_sex=None, ethnicity=None, age_shift=shift)


def _case_like(source: str, target: str) -> str:
    if source.isupper() and len(source) > 1:
        return target.upper()
    if source[:1].isupper():
        return target[:1].upper() + target[1:]
    return target


def _swap_sex(text: str, to_sex: str) -> str:
    if to_sex == "female":
        table = {a.lower(): b for a, b in _SEX_PAIRS}
        table.update({"him": "her", "mrs.": "Ms.", "mrs": "Ms"})
    else:
        table = {b.lower(): a for a, b in _SEX_PAIRS if b != "her"}
        table.update({"hers": "his", "mrs.": "Mr.", "mrs": "Mr"})

    def replace(match: re.Match) -> str:
        word = match.group(0)
        if to_sex == "male" and word.lower() == "her":
            token = re.match(r"\s*(\S*)", text[match.end():]).group(1)
            follower = token.lower().strip(".,;:!?)\"'") if token else ""
            before = re.search(r"([A-Za-z]+)\s*$", text[:match.start()])
            object_verb = bool(before) and before.group(1).lower() in _OBJECT_VERBS
            ends_clause = not token or not token[0].isalnum()
            object_pos = ends_clause or follower in _OBJECT_FOLLOWERS or object_verb
            target = "him" if object_pos else "his"
        else:
            target = table.get(word.lower())
        return word if target is None else _case_like(word, target)

    return _WORD_RE.sub(replace, text)


def apply(text: str | None, change: DemographicPlan) -> str | None:
    """`text` with the planned demographic changes applied."""
    if not text:
        return text
    if change.to_sex:
        text = _swap_sex(text, change.to_sex)
    if change.ethnicity:
        text = re.sub(rf"\b{re.escape(change.ethnicity[0])}\b", change.ethnicity[1], text)
    if change.age_shift:
        text = _AGE_RE.sub(lambda m: str(int(m.group(0)) + change.age_shift), text)
    return text
