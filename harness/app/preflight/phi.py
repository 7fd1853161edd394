"""PHI scan: the HIPAA Safe Harbor identifiers that free text can show, found by pattern.

Why patterns and not a named-entity model: no clinical de-identification model (Presidio,
Philter, a spaCy NER pipeline) can be installed offline here, and a general-purpose NER
model flags every drug and disease as an entity. The identifiers training rows leak are
overwhelmingly *structured* (an MRN after "MRN", a phone number, an email, a DOB after
"DOB") or *anchored* (a name after a title), which regular expressions catch with high
recall and few false positives on clinical prose. Bare names without a title or a label
("John Smith presented with ...") are not found: that is the known gap of this approach.

What is deliberately *not* PHI here (false positives on clinical text would block every
real medical dataset): doses and lab values ("5 mg", "HbA1c 7.2%"), blood pressure and
ratios ("120/80"), years alone ("in 2019"; Safe Harbor allows the year), month + year
("March 2015", study periods), durations, ages up to 89, ICD codes, and clinical
abbreviations in capitals ("MR" for mitral regurgitation is not "Mr."). A full calendar
date (day, month and year) *is* reported, as `date`: Safe Harbor lists every element of a
date except the year (admission, discharge, death), so a dated clinical note is PHI.
Ages over 89 are reported as `age_over_89` (Safe Harbor aggregates them to "90 or older").

Types: name (after Dr/Mr/Mrs/Ms/Miss/Prof/Doctor/Professor, or a "Name:" label), dob, date,
age_over_89, phone, fax (a phone number whose nearest label says fax), email, ssn, mrn
(MRN, medical record, chart, hospital, patient ID and NHS numbers), account (account,
policy, member, subscriber, health-plan, Medicare/Medicaid numbers), address (street
number + name + suffix, P.O. boxes), zip (after a US state code or a "ZIP" label), url, ip.
Recall per type on the planted demo set: `python -m bench.phi_recall`.

Every value leaves this module masked (`mask`): letters and digits become `*`, so a
report shows the type and shape of what was found and never the value.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# --- building blocks ---------------------------------------------------------------------

_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
           r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON_NUM = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19|20)\d{2}"
# day-month-year in the shapes clinical text uses; numeric forms need a 4-digit year or
# a separator pair so that "1/2" (a fraction) or "120/80" (a blood pressure) never match.
_NUMERIC_DATES = "|".join(
    rf"{_MON_NUM}{sep}{_DAY}{sep}(?:{_YEAR}|\d{{2}})|{_DAY}{sep}{_MON_NUM}{sep}{_YEAR}"  # 03/14/1962
    for sep in ("/", r"\.", "-"))
_FULL_DATE = (
    rf"(?:(?<![\d.,/-])(?:{_NUMERIC_DATES}|{_YEAR}-{_MON_NUM}-{_DAY}|{_YEAR}/{_MON_NUM}/{_DAY})(?!\.?\d)"
    rf"|{_MONTHS}\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}"            # March 14, 1962
    rf"|{_DAY}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS},?\s+{_YEAR})"  # 14 March 1962
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|"
    "NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR"
)
_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    r"Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Crescent|Close|Row|Trail|Alley)"
)
# A run of digits and capitals that contains at least one digit: what record, account and
# plan numbers look like ("A1234567", "MRN-00482913", "XHP-442-118-907").
_ID_VALUE = r"(?=[A-Z0-9-]{0,40}\d)[A-Z0-9][A-Z0-9-]{4,40}[A-Z0-9]"

# (type, alternatives). A labelled alternative captures the value in a group. Order is
# priority: where two detections overlap, the earlier type wins (an email's domain is not
# also a URL; "MRN 555-123-4567" is an MRN, not a phone number).
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_H4 = r"[0-9a-fA-F]{1,4}"
_PATTERNS: list[tuple[str, list[str]]] = [
    ("email", [r"\b[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b"]),
    ("url", [
        r"\b(?:https?://|ftp://|www\.)[^\s<>\"')\]]{1,2000}",
        r"\b(?:[a-z0-9-]{1,63}\.){1,8}(?:com|org|net|edu|gov|io|info|health|care|us|uk)/[^\s<>\"')\]]{0,2000}",
    ]),
    ("ip", [
        rf"(?<![\d.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\d.]*\d)",
        rf"(?<![:\w])(?:{_H4}:){{7}}{_H4}(?![:\w])",
        rf"(?<![:\w])(?:{_H4}:){{1,6}}:(?:{_H4}:?){{0,6}}{_H4}(?![:\w])",
    ]),
    ("ssn", [
        r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])",
        (r"(?i:\b(?:SSN|social sec(?:urity)?(?: number| no\.?)?|SS#)\s*(?:is|:|#|no\.?)?\s*)"
        r"(\d{9}|\d{3} \d{2} \d{4})\b"),
    ]),
    ("dob", [
        (r"(?i:\b(?:DOB|D\.O\.B\.?|date of birth|birth ?date|born(?: on)?(?: the)?|b\.)"
        rf"\s*(?:is|was|:|-|of)?\s*\(?)({_FULL_DATE})"),
    ]),
    ("mrn", [
        (r"(?i:\b(?:MRN|M\.R\.N\.?|MR#|medical record(?: number| no\.?| #)?|"
        r"record (?:number|no\.?|#)|chart (?:number|no\.?|#)|hospital (?:number|no\.?|ID)|"
        rf"patient (?:ID|number|no\.?))\s*(?:is|was|:|#|no\.?)?\s*)(#?{_ID_VALUE})"),
        r"(?i:\bNHS\s*(?:number|no\.?|#)?\s*(?:is|:)?\s*)(\d{3}[ -]?\d{3}[ -]?\d{4})\b",
    ]),
    ("account", [
        (r"(?i:\b(?:account|acct\.?|policy|member|subscriber|beneficiary|health plan|"
        r"insurance|insurance ID|Medicaid|Medicare|group)\s*(?:number|no\.?|#|ID|ID number)?"
        rf"\s*(?:is|was|:|#)?\s*)(#?{_ID_VALUE})"),
    ]),
    ("phone", [
        r"(?<![\w/.-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w/-])",
        r"(?<![\w/.-])\+\d{1,3}[\s.-]\(?\d{1,4}\)?(?:[\s.-]\d{2,6}){1,4}(?![\w/-])",
        r"(?<![\w/.-])0\d{2,4}\s\d{3,4}\s\d{3,4}(?![\w/-])",
        (r"(?i:\b(?:phone|tel|telephone|mobile|cell|fax|pager)\.?\s*(?:number|no\.?|#)?"
        r"\s*(?:is|:)?\s*)(\d{10})\b"),
    ]),
    ("address", [
        (rf"\b\d{{1,6}}\s+(?:(?:[NS][EW]?|[EW])\.?\s+)?(?:[A-Z][a-z]+\.?\s+){{1,4}}{_STREET_SUFFIX}\b\.?"
        r"(?:,?\s+(?:Apt|Apartment|Unit|Suite|Ste|#)\.?\s*[A-Za-z0-9-]+)?"),
        r"\bP\.?\s?O\.?\s+Box\s+\d+",
    ]),
    ("zip", [
        rf"(?<=,\s)(?:{_US_STATES})\s+(\d{{5}}(?:-\d{{4}})?)\b",
        rf"\b[A-Z][a-z]+\s(?:{_US_STATES})\s+(\d{{5}}(?:-\d{{4}})?)\b",
        r"(?i:\b(?:ZIP|zip code|postal code|postcode)\s*(?:is|:)?\s*)(\d{5}(?:-\d{4})?)\b",
    ]),
    ("name", [
        (r"\b(?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof|Doctor|Professor)\.?\s+(?:[A-Z]\.\s*)?"
        r"(?:(?:de|da|del|della|di|du|la|le|van|von|der|den|bin|ibn|al)\s+){0,3}"
        r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)?(?:\s+[A-Z]\.)?(?:\s+[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)?)?"),
        (r"(?i:\b(?:patient name|pt name|name)\s*:\s*)"
        r"([A-Z][a-z]+(?:\s+[A-Z]\.)?\s+[A-Z][a-z]+(?:-[A-Z][a-z]+)?)"),
    ]),
    ("date", [_FULL_DATE]),
    ("age_over_89", [
        r"(?i:\b(?:9\d|1[0-2]\d)[- ](?:year|yr)s?[- ]old\b)",
        r"(?i:\bage[d:]?\s*:?\s*)(9\d|1[0-2]\d)\b(?!\s*(?:%|mg|kg|mmol|mL|cm|mm|years? ago))",
        (r"(?i:\b(?:ninety|one hundred)(?:[- ](?:and[- ])?(?:one|two|three|four|five|six|seven|eight|nine))?"
        r"[- ](?:year|yr)s?[- ]old\b)"),
    ]),
]

# Words after a title that are not a person ("Dr. Office", "Ms. Pac"): few, but they cost
# false positives on instruction data that talks *about* doctors.
_NOT_NAMES = frozenset({"The", "A", "An", "Who", "And", "Or", "Office", "Visit", "Visits",
                        "Appointment", "Appointments", "Note", "Notes", "Said", "Says", "Told"})

PHI_TYPES: tuple[str, ...] = ("name", "dob", "date", "age_over_89", "phone", "fax", "email",
                              "ssn", "mrn", "account", "address", "zip", "url", "ip")

# Where each type's matches can start: at a word boundary (`\\b`) and/or on one of a few
# characters. The lookahead lets the regex engine skip most positions at once (the scan
# runs several times faster); a test checks that it changes no result.
_STARTS = {
    "email": r"\b(?=[A-Za-z0-9._%+-])", "url": r"(?=[A-Za-z0-9])", "ip": r"(?=[0-9a-fA-F])",
    "ssn": r"(?=[0-9Ss])", "dob": r"\b(?=[DdBb])", "mrn": r"\b(?=[MmRrCcHhPpNn])",
    "account": r"\b(?=[AaPpMmSsBbHhIiGg])", "phone": r"(?=[0-9(+PpTtMmCcFf])",
    "address": r"\b(?=[0-9P])", "zip": r"\b(?=[A-Zzp])", "name": r"\b(?=[A-Za-z])",
    "date": r"(?=[0-9JFMASOND])", "age_over_89": r"\b(?=[0-9AaNnOo])",
}


def _compile(name: str, alternatives: list[str], *, anchored: bool = True) -> re.Pattern[str]:
    body = "|".join(alternatives)
    return re.compile(f"{_STARTS[name]}(?:{body})" if anchored else body)


_COMPILED = [(name, _compile(name, alternatives)) for name, alternatives in _PATTERNS]
_PRIORITY = {name: i for i, (name, _alternatives) in enumerate(_PATTERNS)}
_PRIORITY["fax"] = _PRIORITY["phone"]
_FAX_CONTEXT = re.compile(r"(?i)\bfax\b")
_PHONE_CONTEXT = re.compile(r"(?i)\b(?:phone|tel|telephone|mobile|cell|call|pager)\b")


@dataclass(frozen=True)
class Finding:
    """One identifier in one text: its type and where it is (never printed raw)."""

    type: str
    start: int
    end: int

    def value(self, text: str) -> str:
        return text[self.start:self.end]


def mask(value: str, phi_type: str) -> str:
    """`[PHONE:(***) ***-****]`: the type and the shape, no letter or digit of the value."""
    return f"[{phi_type.upper()}:" + re.sub(r"[A-Za-z0-9]", "*", value) + "]"


def _value_span(match: re.Match[str]) -> tuple[int, int]:
    """The identifier itself: a labelled pattern's value group, else the whole match."""
    for index in range(1, (match.re.groups or 0) + 1):
        if match.group(index) is not None:
            return match.span(index)
    return match.span()


def _phone_or_fax(text: str, start: int) -> str:
    """`fax` when the nearest label before the number (same line, 40 chars) says fax."""
    window = text[max(0, start - 40):start]
    window = window.rsplit("\n", 1)[-1]
    if re.search(r"\b(?:F|Fx)\s*:\s*$", window):
        return "fax"
    last_fax = max((m.start() for m in _FAX_CONTEXT.finditer(window)), default=-1)
    last_phone = max((m.start() for m in _PHONE_CONTEXT.finditer(window)), default=-1)
    return "fax" if last_fax > last_phone else "phone"


def _candidates(text: str) -> Iterator[Finding]:
    for phi_type, regex in _COMPILED:
        if phi_type == "email" and "@" not in text:
            continue
        for match in regex.finditer(text):
            start, end = _value_span(match)
            value = text[start:end].rstrip(".,;:")
            end = start + len(value)
            if end <= start:
                continue
            kind = phi_type
            if phi_type == "phone":
                kind = _phone_or_fax(text, start)
            elif phi_type == "name":
                words = re.findall(r"[A-Z][a-z]+", value)
                surname = words[1:] if re.match(r"(?i)(?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof|Doctor|Professor)\b",
                                                value) else words
                if not surname or surname[0] in _NOT_NAMES:
                    continue
            elif phi_type == "url" and value.endswith((")", "]")):
                continue
            yield Finding(kind, start, end)


def scan_text(text: str) -> list[Finding]:
    """Every identifier in `text`, overlaps resolved by type priority, in text order."""
    chosen: list[Finding] = []  # non-overlapping, kept sorted by start (hence by end)
    starts: list[int] = []
    for finding in sorted(_candidates(text), key=lambda f: (_PRIORITY[f.type], f.start)):
        at = bisect.bisect_left(starts, finding.start)
        if at > 0 and chosen[at - 1].end > finding.start:
            continue
        if at < len(chosen) and chosen[at].start < finding.end:
            continue
        chosen.insert(at, finding)
        starts.insert(at, finding.start)
    return chosen


def scan_rows(rows: Iterable[tuple[int, str]], *, max_rows_listed: int = 50,
              max_examples: int = 5) -> dict[str, dict]:
    """Counts per type, the row numbers (first `max_rows_listed`) and masked examples.

    Types with no finding are listed with count 0, so a report shows what was looked for.
    """
    report: dict[str, dict] = {t: {"count": 0, "rows": [], "rows_total": 0, "examples": []}
                               for t in PHI_TYPES}
    for row, text in rows:
        seen_types: set[str] = set()
        for finding in scan_text(text):
            entry = report[finding.type]
            entry["count"] += 1
            if finding.type not in seen_types:
                entry["rows_total"] += 1
                if len(entry["rows"]) < max_rows_listed:
                    entry["rows"].append(row)
                seen_types.add(finding.type)
            example = mask(finding.value(text), finding.type)
            if len(entry["examples"]) < max_examples and example not in entry["examples"]:
                entry["examples"].append(example)
    return report
