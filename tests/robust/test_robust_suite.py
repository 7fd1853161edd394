"""medqa-robust with a fake model: variants in the records, metrics the gate reads."""

from __future__ import annotations

import pytest

from harness.core.errors import BadInputError
from harness.core.records import Record
from suites.base import RunContext, SuiteSpec
from suites.loaders import medqa
from suites.metrics import compute_metrics
from suites.perturb import DEFAULT_VARIANTS, Perturber
from suites.perturb.suite import RobustSuite
from suites.perturb.synonyms import load_lexicon

from .fakes import FakeModel

SPEC = SuiteSpec(name="medqa-robust", kind="derived", description="t", loader="medqa",
                 prompt_format="medqa", cls="suites.perturb.suite:RobustSuite",
                 metrics=("accuracy.<variant>", "accuracy_drop.<variant>",
                          "consistency.<variant>", "consistency", "flips.<variant>"))


def robustness_metrics(clean, variants, seed=0):
    records = [*clean, *(r for rs in variants.values() for r in rs)]
    return compute_metrics(SPEC.metrics, records, options={"variants": list(variants)},
                           seed=seed)


def _ctx(path, lexicon, **options):
    return RunContext(data_path=path, is_demo_data=True, seed=11,
                      options={"lexicon": str(lexicon), **options})


def test_records_carry_every_variant_and_the_summary_the_gate_reads(medqa_file, lexicon_file):
    result = RobustSuite(SPEC).run(FakeModel("content"), _ctx(medqa_file, lexicon_file))
    variants = {r.variant for r in result.records}
    assert variants == {"clean", *DEFAULT_VARIANTS}
    assert all(r.demo for r in result.records)
    m = result.metrics
    for name in DEFAULT_VARIANTS:
        for key in (f"accuracy.{name}", f"accuracy_drop.{name}", f"consistency.{name}",
                    f"flips.{name}"):
            assert key in m, key
    assert {"accuracy.clean", "consistency"} <= set(m) and "_info" not in m
    info = result.info
    assert set(info["guard_dropped"]) == set(DEFAULT_VARIANTS)
    assert info["not_applicable"]["demographic"] == 2  # the pregnancy and menstrual items
    n_items = 6
    for name in DEFAULT_VARIANTS:
        counted = sum(info[k][name] for k in ("kept", "guard_dropped", "not_applicable",
                                               "unchanged"))
        assert counted == n_items, name  # nothing disappears uncounted
        assert m[f"accuracy.{name}"].n == info["kept"][name]


def test_content_chooser_is_consistent_under_reordering_and_first_letter_is_not(
        medqa_file, lexicon_file):
    ctx = _ctx(medqa_file, lexicon_file, variants=["option_order"])
    content = RobustSuite(SPEC).run(FakeModel("content"), ctx).metrics
    first = RobustSuite(SPEC).run(FakeModel("first"), ctx).metrics
    assert content["consistency.option_order"].value == 1.0
    assert first["consistency.option_order"].value == 0.0  # permutations never fix A
    gold_model = FakeModel("gold", items=medqa.load(medqa_file))
    gold = RobustSuite(SPEC).run(gold_model, ctx).metrics
    assert gold["accuracy.clean"].value == 1.0
    assert gold["accuracy_drop.option_order"].value == 0.0
    assert gold["flips.option_order"].value == 0


def test_metrics_on_hand_made_records():
    def rec(item, variant, pred, gold=0, option_map=None):
        meta = {"pred_index": pred}
        if option_map is not None:
            meta["option_map"] = option_map
        return Record(suite="s", item_id=item, variant=variant, prompt=f"{item}{variant}",
                      pred="ABCD"[pred], gold="A", correct=pred == gold, meta=meta)

    clean = [rec(f"i{k}", "clean", 0) for k in range(30)]
    # variant: options reversed; items 0-20 follow the answer (index 3 = clean 0), 21-29 not
    variant = [rec(f"i{k}", "option_order", 3 if k < 21 else 0, gold=3,
                   option_map=[3, 2, 1, 0]) for k in range(30)]
    m = robustness_metrics(clean, {"option_order": variant}, seed=0)
    assert m["accuracy.clean"].value == 1.0
    assert m["accuracy.option_order"].value == pytest.approx(0.7)
    drop = m["accuracy_drop.option_order"]
    assert drop.value == pytest.approx(0.3) and drop.n == 30
    assert 0 < drop.ci[0] <= 0.3 <= drop.ci[1]
    consistency = m["consistency.option_order"]
    assert consistency.value == pytest.approx(0.7) and consistency.target == 0.95
    assert consistency.lower95 < 0.7 and consistency.n_needed > 30  # 9 misses in 30
    flips = m["flips.option_order"].to_json()
    assert flips["value"] == 9 and flips["correct_to_wrong"] == 9
    assert flips["wrong_to_correct"] == 0 and flips["answer_changed"] == 9
    assert m["consistency"].n == 30


def test_unreadable_prediction_counts_as_inconsistent():
    clean = [Record(suite="s", item_id="a", prompt="p", pred=None, correct=None)]
    variant = [Record(suite="s", item_id="a", variant="ocr", prompt="q", pred="A",
                      correct=False, meta={"pred_index": 0, "option_map": [0, 1]})]
    m = robustness_metrics(clean, {"ocr": variant})
    assert m["consistency.ocr"].value == 0.0


def test_variants_are_deterministic_by_seed(medqa_file, lexicon_file):
    items = medqa.load(medqa_file)
    lexicon = load_lexicon(lexicon_file)
    a, b, c = Perturber(5, lexicon), Perturber(5, lexicon), Perturber(6, lexicon)
    texts = {}
    for name in DEFAULT_VARIANTS:
        first = [a.perturb(i, name) for i in items]
        again = [b.perturb(i, name) for i in items]
        assert [(v.status, v.item) for v in first] == [(v.status, v.item) for v in again]
        texts[name] = [v.item.question if v.item else None for v in first]
        # the draw of one item does not depend on the others
        assert a.perturb(items[3], name).item == first[3].item
    other = [c.perturb(i, "typo_keyboard").item.question for i in items]
    assert other != texts["typo_keyboard"]


def test_unknown_variant_and_bad_options_are_bad_input(medqa_file, lexicon_file):
    with pytest.raises(BadInputError, match="unknown perturbation"):
        RobustSuite(SPEC).run(FakeModel(), _ctx(medqa_file, lexicon_file, variants=["leet"]))
    with pytest.raises(BadInputError, match="age_shift_years"):
        RobustSuite(SPEC).run(FakeModel(), _ctx(medqa_file, lexicon_file, age_shift_years=-1))


def test_missing_lexicon_is_bad_input_naming_the_file(medqa_file, tmp_path):
    ctx = RunContext(data_path=medqa_file, is_demo_data=True,
                     options={"lexicon": str(tmp_path / "none.yaml"), "variants": ["synonym"]})
    with pytest.raises(BadInputError, match="none.yaml"):
        RobustSuite(SPEC).run(FakeModel(), ctx)


def test_malformed_lexicon_group_names_its_index(tmp_path):
    path = tmp_path / "lex.yaml"
    path.write_text("groups:\n  - [heart attack, MI]\n  - [lonely]\n", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"groups\[1\]"):
        load_lexicon(path)


def test_lexicon_sets_aside_terms_that_carry_numbers_or_negations(lexicon_file):
    lexicon = load_lexicon(lexicon_file)
    assert "T2DM" in lexicon.terms_set_aside
    assert all("T2DM" not in g for g in lexicon.groups)


def test_demographic_variant_swaps_consistently_and_skips_pregnancy(medqa_file):
    items = {i.item_id: i for i in medqa.load(medqa_file)}
    p = Perturber(3)
    assert p.perturb(items["t2"], "demographic").status == "not_applicable"
    v = p.perturb(items["t1"], "demographic")
    assert v.status == "kept"
    q = v.item.question
    assert "woman" in q and " She " in q and " her blood pressure" in q
    assert " He " not in q and " his " not in q


@pytest.mark.parametrize("text, expected", [
    ("A woman took it. Her 6-hour level is high.", "A man took it. His 6-hour level is high."),
    ("We gave her aspirin and saw her, then left.", "We gave him aspirin and saw him, then left."),
    ("Mrs. Lee says her knee hurts.", "Mr. Lee says his knee hurts."),
])
def test_her_becomes_his_or_him_by_position(text, expected):
    import random

    from suites.perturb import demographic

    change = demographic.plan([text], random.Random(0))
    assert demographic.apply(text, change) == expected


def test_variants_do_not_depend_on_the_string_hash_seed(medqa_file):
    """Two processes with different PYTHONHASHSEED draw the same variants (nlpaug keeps a
    word's misspellings in set order, which the hash seed decides)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, pathlib; from suites.loaders import medqa\n"
            "from suites.perturb import Perturber\n"
            "p = Perturber(5, None)\n"
            "for item in medqa.load(pathlib.Path(sys.argv[1])):\n"
            "    for name in ('spelling', 'typo_keyboard', 'ocr', 'char_random'):\n"
            "        print(repr(p.perturb(item, name).item))\n")
    root = str(Path(__file__).resolve().parents[2])
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": root}
        done = subprocess.run([sys.executable, "-c", code, str(medqa_file)], env=env,
                              capture_output=True, text=True, timeout=300, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and len(outputs[0].splitlines()) == 24
