"""Meaning-preserving variants keep every number; shifting ages is a variant of its own."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from harness.core.errors import BadInputError
from harness.core.records import Record
from suites.base import MCItem, RunContext
from suites.loaders import medqa
from suites.metrics import compute_metrics
from suites.perturb import CHANGES_QUESTION, DEFAULT_VARIANTS, KNOWN_VARIANTS, Perturber
from suites.perturb.suite import RobustSuite
from suites.perturb.synonyms import load_lexicon
from suites.registry import get_spec

from .fakes import FakeModel

DATA = Path(__file__).resolve().parents[2] / "suites" / "data"
DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def numbers(item: MCItem) -> Counter:
    """Every digit run of the item's text, ages included, as a multiset."""
    texts = [item.question, item.context or "", *item.options]
    return Counter(n for t in texts for n in DIGITS.findall(t))


def test_every_default_variant_keeps_the_numbers_of_the_bundled_items():
    items = medqa.load(DATA / "medqa_demo.jsonl")
    lexicon = load_lexicon(DATA / "medical_lexicon.yaml")
    assert "age_shift" not in DEFAULT_VARIANTS and set(CHANGES_QUESTION) == {"age_shift"}
    assert get_spec("medqa-robust").options["variants"] == list(DEFAULT_VARIANTS)
    kept = Counter()
    for seed in (0, 1234):
        perturber = Perturber(seed, lexicon)
        for item in items:
            for name in DEFAULT_VARIANTS:
                variant = perturber.perturb(item, name)
                if variant.status == "kept":
                    kept[name] += 1
                    assert numbers(variant.item) == numbers(item), (item.item_id, name)
    assert kept["demographic"] > 0 and all(kept[v] for v in DEFAULT_VARIANTS)


def test_the_demographic_variant_keeps_ages_and_the_guard_judges_it():
    item = MCItem(item_id="x", question="A 45-year-old man has chest pain. He smokes. "
                  "What is the next step?", options=("ECG", "CT", "MRI", "Rest"), answer=0)
    variant = Perturber(3).perturb(item, "demographic")
    assert variant.status == "kept" and "45-year-old woman" in variant.item.question
    shifted = Perturber(3, age_shift_years=4).perturb(item, "age_shift")
    assert shifted.status == "kept" and "45-year-old" not in shifted.item.question
    assert "man" in shifted.item.question  # age only
    assert numbers(shifted.item) != numbers(item)


def _ctx(**options) -> RunContext:
    return RunContext(data_path=DATA / "medqa_demo.jsonl", is_demo_data=True, seed=3,
                      limit=26, options={"variants": ["demographic", "ocr"], **options})


def test_age_shift_runs_only_when_asked_and_is_not_pooled():
    suite = RobustSuite(get_spec("medqa-robust"))
    plain = suite.run(FakeModel("content"), _ctx())
    assert {r.variant for r in plain.records} <= {"clean", "demographic", "ocr"}
    asked = suite.run(FakeModel("content"),
                      _ctx(variants=["ocr", "age_shift"], age_shift_years=3))
    assert "age_shift" in {r.variant for r in asked.records}
    assert "consistency.age_shift" in asked.metrics
    ocr_only = [r for r in asked.records if r.variant in ("clean", "ocr")]
    pooled = compute_metrics(["consistency"], ocr_only, options={"variants": ["ocr"]})
    assert asked.metrics["consistency"].value == pooled["consistency"].value


def test_age_shift_records_stay_out_of_the_pooled_consistency():
    def rec(variant: str, pred: int) -> Record:
        return Record(suite="r", item_id="a", variant=variant, prompt=variant, pred="AB"[pred],
                      gold="A", correct=pred == 0,
                      meta={"pred_index": pred, "option_map": [0, 1, 2, 3]})

    m = compute_metrics(["consistency", "consistency.<variant>"],
                        [rec("clean", 0), rec("ocr", 0), rec("age_shift", 1)],
                        options={"variants": ["ocr", "age_shift"]})
    assert m["consistency"].value == 1.0 and m["consistency.age_shift"].value == 0.0


def test_age_shift_years_without_the_variant_is_bad_input():
    suite = RobustSuite(get_spec("medqa-robust"))
    with pytest.raises(BadInputError, match="age_shift_years.*'age_shift' is not among"):
        suite.run(FakeModel(), _ctx(age_shift_years=4))
    with pytest.raises(BadInputError, match="positive integer"):
        suite.run(FakeModel(), _ctx(variants=["age_shift"], age_shift_years=0))
    assert "age_shift" in KNOWN_VARIANTS
