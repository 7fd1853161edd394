"""PHI scanner: recall per type on the planted demo set, no false positives on clinical
text, and no raw value in anything it returns."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.phi_recall import evaluate, load_planted
from harness.app.preflight import PHI_TYPES, mask, run_preflight, scan_rows, scan_text
from harness.app.preflight.phi import _PATTERNS, _compile

RECALL_FLOOR = 0.9


@pytest.fixture(scope="module")
def planted():
    return load_planted()


def test_planted_set_has_15_identifiers_of_every_type_and_clean_rows(planted):
    counts = {t: 0 for t in PHI_TYPES}
    for row in planted:
        for p in row["planted"]:
            counts[p["type"]] += 1
            assert p["value"] in row["text"]
    assert min(counts.values()) >= 15, counts
    assert sum(1 for r in planted if not r["planted"]) >= 30
    assert all(r.get("demo") is True for r in planted)


def test_recall_per_type_meets_the_floor(planted):
    result = evaluate(planted)
    low = {t: e["recall"] for t, e in result["per_type"].items() if e["recall"] < RECALL_FLOOR}
    assert not low, f"recall below {RECALL_FLOOR}: {low}; missed {result['missed']}"
    assert result["clean_rows_with_findings"] <= 1
    assert result["false_positives"] <= 3


@pytest.mark.parametrize("text", [
    "Blood pressure 120/80 mmHg and pulse 72/min.",
    "Paracetamol 500 mg, 1-2 tablets every 4-6 hours, maximum 8 in 24 hours.",
    "HbA1c 7.2% (55 mmol/mol); LDL 2.6 mmol/L.",
    "Recruitment ran from January 2016 to March 2019.",
    "In 1998 the first guideline was published.",
    "A 64-year-old man with MR and AF on echo.",
    "The 95% CI was 0.82-1.10 and p = 0.03.",
    "ICD-10 E11.9, SNOMED 44054006.",
    "Ratio 1:1000 adrenaline, 0.01 mg/kg.",
    "Ask your doctor before stopping the tablets.",
    "An 89-year-old woman with a hip fracture.",
    "Version 3.2.1 of the software.",
    "Dr. visits every 3 months.",
])
def test_clinical_text_is_not_phi(text):
    assert scan_text(text) == []


@pytest.mark.parametrize(("text", "kind"), [
    ("Fax: 212-555-0100", "fax"),
    ("Phone 212-555-0100, fax 212-555-0101", "phone"),
    ("call 212-555-0100", "phone"),
])
def test_fax_is_told_from_phone_by_its_label(text, kind):
    assert scan_text(text)[0].type == kind


def test_masked_examples_keep_type_and_shape_only():
    assert mask("617-555-0143", "phone") == "[PHONE:***-***-****]"
    report = scan_rows([(1, "Email j.doe@example.com or call (617) 555-0143.")])
    assert report["email"]["examples"] == ["[EMAIL:*.***@*******.***]"]
    assert report["phone"]["rows"] == [1]


def test_no_planted_value_reaches_preflight_json(planted, tmp_path):
    texts = [(i + 1, r["text"]) for i, r in enumerate(planted)]
    out = tmp_path / "data" / "preflight.json"
    result = run_preflight(texts, {}, out_path=out)
    written = out.read_text(encoding="utf-8")
    everything = written + json.dumps(result.reasons) + json.dumps(result.warnings)
    values = [p["value"] for r in planted for p in r["planted"]]
    # two-digit values (an age of 91) also occur as row numbers and inside the hash
    leaked = [v for v in values if len(v) >= 5 and v in everything]
    assert not leaked, f"{len(leaked)} raw values in preflight output"
    for entry in result.phi.values():
        assert all(not re.search(r"[A-Za-z0-9]", e.split(":", 1)[1]) for e in entry["examples"])
    data = json.loads(written)
    assert data["phi_total"] >= len(values)
    assert not result.passed and "PHI" in result.reasons[0]


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.sampled_from(["617-555-0143", "jo@example.org", "123-45-6789", "10.1.2.3",
                               "MRN 88123456", "DOB 03/04/1950"]), _TEXT)
def test_examples_never_carry_a_letter_or_digit_of_the_value(before, value, after):
    text = f"{before} {value} {after}"
    for entry in scan_rows([(1, text)]).values():
        for example in entry["examples"]:
            inner = example.split(":", 1)[1]
            assert not re.search(r"[A-Za-z0-9]", inner)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([
    "({a}{b}{c}) {d}{e}{f}-{g}{h}{i}{j}", "{a}{b}{c}-{d}{e}{f}-{g}{h}{i}{j}",
    "{a}{b}{c}.{d}{e}{f}.{g}{h}{i}{j}"]),
    st.lists(st.integers(2, 9), min_size=10, max_size=10),
    st.sampled_from(["Please call {} today.", "Contact: {}", "Reached on {} by the nurse."]))
def test_generated_phone_numbers_are_found(shape, digits, sentence):
    number = shape.format(**dict(zip("abcdefghij", map(str, digits), strict=True)))
    text = sentence.format(number)
    found = [f for f in scan_text(text) if f.type == "phone"]
    assert found and text[found[0].start:found[0].end] == number


@pytest.mark.xfail(strict=True, reason="known gap: a bare name without a title or a label "
                   "is not found by patterns (no offline NER model)")
def test_bare_names_are_a_known_gap():
    assert any(f.type == "name" for f in scan_text("John Baxter, 57, attends with chest pain."))


def _spans_both_ways(text: str) -> list[tuple[list, list]]:
    out = []
    for name, alternatives in _PATTERNS:
        fast = [m.span() for m in _compile(name, alternatives).finditer(text)]
        plain = [m.span() for m in _compile(name, alternatives, anchored=False).finditer(text)]
        out.append((fast, plain))
    return out


def test_start_anchors_change_no_match_on_the_planted_set(planted):
    for row in planted:
        for fast, plain in _spans_both_ways(row["text"]):
            assert fast == plain, row["id"]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789 -./:()+@#,abcDMNPSTFJ\nxyz")),
               max_size=80))
def test_start_anchors_change_no_match_on_generated_text(text):
    for fast, plain in _spans_both_ways(text):
        assert fast == plain


_FRAGMENTS = ["DOB ", "born on ", "MRN ", "Dr. ", "Mrs ", "Smith", "Jo", "fax ", "phone ", "617",
              "-", "555", "0143", "03/14/1962", "2021-02-28", "March 3, ", "1990", "@",
              "example.com", "http://", "www.", "192.168.", "1.", ":", "::", "ab", " Ave",
              " Street", "12 ", "Boston, MA ", "02115", "aged ", "93", "-year-old", "SSN ",
              "123-45-", "6789", " ", ",", ".", "\n", "ninety-", "Policy ", "#", "A12345",
              "Name: ", "Oak", "+44 ", "020 7946 ", "(", ")", "ZIP ", "P.O. Box ", "NHS "]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map("".join))
def test_start_anchors_change_no_match_on_identifier_fragments(text):
    for fast, plain in _spans_both_ways(text):
        assert fast == plain
