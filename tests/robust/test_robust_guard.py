"""The guard: numbers, units, ages and negations survive every kept perturbation."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from suites.base import MCItem
from suites.loaders import medqa
from suites.perturb import DEFAULT_VARIANTS, Perturber, check_item, extract
from suites.perturb.distractor import load_distractors
from suites.perturb.guard import compare_text
from suites.perturb.synonyms import load_lexicon
from suites.perturb.tokens import ExactTokenizer

BUNDLED_MEDQA = Path(__file__).resolve().parents[2] / "suites" / "data" / "medqa_demo.jsonl"
BUNDLED_LEXICON = Path(__file__).resolve().parents[2] / "suites" / "data" / "medical_lexicon.yaml"

ITEM = MCItem("x", "A 45-year-old man has had chest pain for 2 hours. BP is 150/90 mm Hg. "
              "He denies fever and does not smoke. Which is next?",
              ("Aspirin 325 mg", "No treatment", "Observation", "Discharge"), 0)


def test_extract_reads_numbers_units_negations_and_ages():
    facts = extract("A 45-year-old woman, HbA1c 7.5%, takes 2 tablets twice daily; she "
                    "doesn't smoke, denies fever and is non-tender. Temp 38.5°C.")
    assert facts.ages == (45,)
    assert "7.5" in facts.numbers and "38.5" in facts.numbers and "twice" in facts.numbers
    assert ("7.5", "%") in facts.quantities and ("2", "tablets") in facts.quantities
    assert facts.negations == ("doesn't", "denies", "non")


@pytest.mark.parametrize("changed, what", [
    ("BP is 150/95 mm Hg", "numbers"),
    ("BP is 150/90 cm Hg", "quantities"),
    ("He has fever", "negations"),
])
def test_guard_drops_a_changed_fact(changed, what):
    text = ITEM.question.replace("BP is 150/90 mm Hg", changed) if "BP" in changed else \
        ITEM.question.replace("He denies fever and does not smoke", changed)
    verdict = check_item(ITEM, replace(ITEM, question=text))
    assert not verdict.kept
    assert any(what in r for r in verdict.reasons)


def test_guard_checks_options_through_the_option_map_and_the_gold():
    swapped = replace(ITEM, options=(ITEM.options[1], ITEM.options[0], *ITEM.options[2:]),
                      answer=1)
    assert check_item(ITEM, swapped, [1, 0, 2, 3]).kept
    assert not check_item(ITEM, swapped, [0, 1, 2, 3]).kept  # dose moved to another option
    assert not check_item(ITEM, replace(swapped, answer=0), [1, 0, 2, 3]).kept


def test_age_may_move_only_where_allowed_and_only_within_the_adult_band():
    older = replace(ITEM, question=ITEM.question.replace("45-year-old", "48-year-old"))
    assert not check_item(ITEM, older).kept
    assert check_item(ITEM, older, allow_age=True).kept
    child = replace(ITEM, question=ITEM.question.replace("45-year-old", "8-year-old"))
    assert not check_item(ITEM, child, allow_age=True).kept


def test_exact_tokenizer_gives_the_text_back():
    tok = ExactTokenizer()
    text = "BP 150/90 mm Hg;  HbA1c 7.5%.\nHe doesn't smoke (HTN)."
    assert tok.detokenize(tok.tokenize(text)) == text
    assert "7.5%" in tok.tokenize(text)


def test_distractor_sentences_carry_no_facts():
    for sentence in load_distractors():
        facts = extract(sentence)
        assert not (facts.numbers or facts.negations or facts.units or facts.quantities), sentence


def _assert_guard_holds(items, perturber, variants=DEFAULT_VARIANTS):
    kept = 0
    for item in items:
        for name in variants:
            v = perturber.perturb(item, name)
            if v.status != "kept":
                continue
            kept += 1
            new = v.item
            allow_age = name == "age_shift"
            assert not compare_text(item.question, new.question, allow_age=allow_age), \
                (item.item_id, name, new.question)
            assert not compare_text(item.context, new.context, allow_age=allow_age)
            for i, text in enumerate(new.options):
                assert not compare_text(item.options[v.option_map[i]], text), (item.item_id, name)
            assert item.options[item.answer] == new.options[new.answer] or name == "synonym" \
                or name == "demographic"
            assert v.option_map[new.answer] == item.answer
            if not allow_age:
                assert extract(item.question).ages == extract(new.question).ages
    return kept


def test_guard_holds_over_a_test_set_for_many_seeds(medqa_file, lexicon_file):
    items = medqa.load(medqa_file)
    total = 0
    for seed in range(8):
        total += _assert_guard_holds(items, Perturber(seed, load_lexicon(lexicon_file)))
    assert total > 8 * len(items) * 4  # most variants are kept, so the check has content


@pytest.mark.skipif(not BUNDLED_MEDQA.exists(), reason="bundled MedQA demo set not present")
def test_guard_holds_over_the_bundled_medqa_set():
    items = medqa.load(BUNDLED_MEDQA)
    lexicon = load_lexicon(BUNDLED_LEXICON) if BUNDLED_LEXICON.exists() else None
    variants = DEFAULT_VARIANTS if lexicon else tuple(v for v in DEFAULT_VARIANTS if v != "synonym")
    kept = _assert_guard_holds(items, Perturber(1234, lexicon), variants)
    assert kept > len(items)


def test_random_perturbations_of_numbers_are_always_caught():
    rng = random.Random(0)
    for _ in range(200):
        a, b = rng.randint(0, 500), rng.randint(0, 500)
        if a == b:
            continue
        assert compare_text(f"Sodium is {a} mEq/L.", f"Sodium is {b} mEq/L.")
