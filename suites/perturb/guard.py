"""The meaning guard: a perturbation may change wording, never the clinical facts.

A perturbed item is compared with its clean item field by field (question, context,
and each option with the clean option it came from). Numbers, the units that follow
them, stand-alone units and negation cues must match in order; a variant that changes
any of them is dropped and counted by the suite, because a typo that turns "7.5" into
"7. 5" or "denies" into "denUes" tests reading, not robustness.

Every variant is held to this, `demographic` included. The one exception is the opt-in
`age_shift` variant, which exists to move the patient's age and is reported apart because
it changes the question: ages are extracted apart from the other numbers and may move
there only within the adult band; every other number must still match.

Written here rather than taken from a library: nlpaug and the clinical NLP packages
offer no such check, and negation detectors (negspacy, pyConTextNLP) need spaCy models
that cannot be downloaded offline; a list of cues compared in order is enough to prove
that a cue was neither added nor removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from suites.base import MCItem

NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "million", "half", "once", "twice", "thrice", "double", "triple", "dozen", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]

NEGATION_WORDS = ["no", "not", "never", "none", "nor", "neither", "without", "denies", "denied", "deny", "denying", "negative", "absent", "absence", "cannot", "lack", "lacks", "lacking", "free", "unable", "fails", "failed"]

# Units that follow a number (matched case-insensitively) or stand alone.
UNIT_PATTERN = (
    r"(?:mm\s?hg|cm\s?h2o|mg/dl|g/dl|mg/l|g/l|mmol/l|mmol|meq/l|meq|µmol/l|μmol/l|umol/l|"
    r"iu/l|u/l|iu/ml|ng/ml|pg/ml|µg/dl|μg/dl|mcg/dl|mg/kg|mcg/kg|µg/kg|ml/kg|ml/min|l/min|"
    r"/min|/mm3|/mm²|/µl|/μl|/ul|/hpf|mosm/kg|mosm/l|mg|mcg|µg|μg|ng|pg|kg|g|ml|dl|l|"
    r"iu|units?|mm|cm|m|km|in|inches|ft|feet|lb|lbs|pounds?|oz|°c|°f|c|f|%|percent|bpm|"
    r"beats|breaths|seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|wks?|"
    r"months?|mos?|years?|yrs?|y|times|tablets?|tabs?|puffs?|drops?|doses?|gauge|fr|"
    r"kcal|cal|joules?|j|mv|mhz|hz|x)"
)
# Every digit run counts, also inside words (HbA1c, T2DM): a perturbation that adds or
# drops a digit anywhere changes what a reader could take for a value.
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_QUANTITY_RE = re.compile(rf"(\d+(?:[.,]\d+)*)(?:\s?-?\s?)({UNIT_PATTERN})(?![A-Za-z])", re.IGNORECASE)
_STANDALONE_UNITS = re.compile(
    r"(?<![A-Za-z])(mm\s?Hg|mg/dL|g/dL|mmol/L|mEq/L|mg/kg|mcg|µg|μg|mg|mL|bpm|°C|°F|IU|%)"
    r"(?![A-Za-z])")
_NUMBER_WORD_RE = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
_NEGATION_RE = re.compile(
    r"\b(?:" + "|".join(NEGATION_WORDS) + r")\b|\b\w+n['’]t\b|\bnon(?:-|(?=[a-z]))(?!e\b)", re.IGNORECASE)
_AGE_RE = re.compile(
    r"\b(\d{1,3})(?=(?:\s|-)(?:year|month|week|day)s?(?:\s|-)old\b)|"
    r"\baged?\s(\d{1,3})\b|\b(\d{1,3})(?=\s(?:years?|yrs?)\sof\sage\b)|"
    r"\b(\d{1,3})(?=\s?(?:yo|y/o)\b)", re.IGNORECASE)

ADULT_BAND = (25, 59)


@dataclass(frozen=True)
class Facts:
    """What must survive a perturbation, in reading order."""

    numbers: tuple[str, ...]
    quantities: tuple[tuple[str, str], ...]
    units: tuple[str, ...]
    negations: tuple[str, ...]
    ages: tuple[int, ...] = ()


def _norm_number(text: str) -> str:
    return text.replace("−", "-").replace(",", "")


def _age_spans(text: str) -> list[tuple[int, int, int]]:
    spans = []
    for match in _AGE_RE.finditer(text):
        for group in range(1, 5):
            if match.group(group) is not None:
                spans.append((match.start(group), match.end(group), int(match.group(group))))
    return spans


def extract(text: str | None) -> Facts:
    """The facts of one text: numbers (digits and number words), number+unit pairs,
    units written on their own and negation cues, each as an ordered tuple."""
    if not text:
        return Facts((), (), (), (), ())
    ages = _age_spans(text)
    age_starts = {start for start, _, _ in ages}
    numbers = []
    for match in _NUMBER_RE.finditer(text):
        if match.start() in age_starts:
            continue
        numbers.append(_norm_number(match.group(0)))
    numbers += [w.group(0).lower() for w in _NUMBER_WORD_RE.finditer(text)]
    quantities = tuple(
        (_norm_number(m.group(1)), re.sub(r"\s", "", m.group(2).lower()))
        for m in _QUANTITY_RE.finditer(text) if m.start(1) not in age_starts)
    units = tuple(re.sub(r"\s", "", m.group(1).lower()) for m in _STANDALONE_UNITS.finditer(text))
    negations = tuple(m.group(0).lower().replace("’", "'").rstrip("-")
                      for m in _NEGATION_RE.finditer(text))
    return Facts(tuple(numbers), quantities, units, negations, tuple(a for _, _, a in ages))


@dataclass
class Verdict:
    """Whether a variant keeps the facts; `reasons` says what changed where."""

    kept: bool
    reasons: list[str] = field(default_factory=list)


def _age_band_ok(clean: tuple[int, ...], new: tuple[int, ...]) -> bool:
    if len(clean) != len(new):
        return False
    lo, hi = ADULT_BAND
    for a, b in zip(clean, new):
        if a != b and not (lo <= a <= hi and lo <= b <= hi):
            return False
    return True


def compare_text(clean: str | None, perturbed: str | None, *, allow_age: bool = False,
                 where: str = "text") -> list[str]:
    """Reasons the perturbed text changes a fact of the clean one (empty: it does not)."""
    a, b = extract(clean), extract(perturbed)
    reasons = []
    for name in ("numbers", "quantities", "units", "negations"):
        if getattr(a, name) != getattr(b, name):
            reasons.append(f"{where}: {name} changed {list(getattr(a, name))} -> "
                           f"{list(getattr(b, name))}")
    if a.ages != b.ages and not (allow_age and _age_band_ok(a.ages, b.ages)):
        reasons.append(f"{where}: age changed {list(a.ages)} -> {list(b.ages)}")
    return reasons


def check_item(clean: MCItem, perturbed: MCItem, option_map: list[int] | None = None, *,
               allow_age: bool = False) -> Verdict:
    """Compare a perturbed item with its clean item.

    `option_map[i]` is the clean index of perturbed option i (identity when None). The
    gold answer must follow the option it pointed at, so a permutation cannot move it.
    """
    mapping = list(option_map) if option_map is not None else list(range(len(clean.options)))
    reasons = compare_text(clean.question, perturbed.question, allow_age=allow_age,
                           where="question")
    reasons += compare_text(clean.context, perturbed.context, allow_age=allow_age,
                            where="context")
    if sorted(mapping) != list(range(len(clean.options))) or \
            len(perturbed.options) != len(clean.options):
        reasons.append("options: not a permutation of the clean options")
    else:
        for i, text in enumerate(perturbed.options):
            reasons += compare_text(clean.options[mapping[i]], text, allow_age=allow_age,
                                    where=f"option {mapping[i]}")
        if mapping[perturbed.answer] != clean.answer:
            reasons.append("answer: gold does not follow its option")
    return Verdict(kept=not reasons, reasons=reasons)
