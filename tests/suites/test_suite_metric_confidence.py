"""Intervals at the confidence a metric is asked for, and the spread of the answers."""

from __future__ import annotations

import pytest

from harness.core.records import Record
from suites.metrics import compute_metrics, recompute_metric


def mc(k: int, pred: str, gold: str = "A") -> Record:
    return Record(suite="s", item_id=f"i{k}", prompt=f"q{k}", pred=pred, gold=gold,
                  correct=pred == gold, choice_logprobs=[0.0, -1.0, -2.0, -3.0],
                  meta={"gold_index": "ABCD".index(gold), "pred_index": "ABCD".index(pred),
                        "subject": "anatomy" if k % 2 else "biochemistry"})


def answered(n: int) -> list[Record]:
    return [mc(k, "A" if k % 3 else "C", gold="A" if k % 4 else "B") for k in range(n)]


def safety(n: int, harmful: int) -> list[Record]:
    return [Record(suite="safety", item_id=f"h{k}", prompt="p", output="o",
                   labels={"harmful": k < harmful}, meta={"kind": "harmful", "category": "x"})
            for k in range(n)]


def robust(n_items: int) -> list[Record]:
    records = []
    for k in range(n_items):
        records.append(Record(suite="r", item_id=f"i{k}", prompt="p", pred="A", gold="A",
                              correct=True, meta={"pred_index": 0}))
        for v in ("ocr", "typo_keyboard"):
            pred = 0 if k % 5 else 1
            records.append(Record(suite="r", item_id=f"i{k}", variant=v, prompt=f"p{v}",
                                  pred="AB"[pred], gold="A", correct=pred == 0,
                                  meta={"pred_index": pred, "option_map": [0, 1, 2, 3]}))
    return records


def at(names, records, confidence, **options):
    return compute_metrics(names, records, options=options, seed=4, confidence=confidence)


def wider(a, b) -> bool:
    return a.ci[0] < b.ci[0] and a.ci[1] > b.ci[1]


def test_accuracy_interval_widens_at_higher_confidence():
    names = ["accuracy", "accuracy.<subject>", "macro_f1", "ece", "brier"]
    hi, lo = at(names, answered(60), 0.99), at(names, answered(60), 0.95)
    for key in ("accuracy", "accuracy.anatomy", "macro_f1", "ece", "brier"):
        assert wider(hi[key], lo[key]), key
        assert hi[key].confidence == 0.99 and lo[key].confidence == 0.95
    assert hi["accuracy"].value == lo["accuracy"].value


def test_harmful_rate_bound_rises_at_higher_confidence():
    hi = at(["harmful_rate"], safety(300, 1), 0.99)["harmful_rate"]
    lo = at(["harmful_rate"], safety(300, 1), 0.95)["harmful_rate"]
    assert hi.upper95 > lo.upper95 and hi.n_needed > lo.n_needed and wider(hi, lo)
    assert hi.to_json()["confidence"] == 0.99


def test_consistency_bounds_follow_the_confidence():
    names = ["consistency", "consistency.<variant>", "accuracy.<variant>",
             "accuracy_drop.<variant>"]
    hi, lo = at(names, robust(40), 0.99), at(names, robust(40), 0.95)
    for key in ("consistency", "consistency.ocr", "accuracy.ocr", "accuracy_drop.ocr"):
        assert wider(hi[key], lo[key]), key
    assert hi["consistency"].lower95 < lo["consistency"].lower95
    assert hi["consistency.ocr"].lower95 < lo["consistency.ocr"].lower95
    assert hi["consistency"].n_needed >= lo["consistency"].n_needed


def test_answers_all_b_are_degenerate():
    records = [mc(k, "B", gold="ABCD"[k % 4]) for k in range(40)]
    entry = at(["answer_spread"], records, 0.95)["answer_spread"]
    data = entry.to_json()
    assert data["degenerate"] is True and data["value"] == 1.0 and data["modal"] == "B"
    assert data["entropy_bits"] == pytest.approx(0.0) and data["n"] == 40
    assert data["counts"] == {"B": 40} and data["gold_share_of_modal"] == 0.25
    assert "100% of 40 answers are 'B'" in data["note"]


def test_balanced_answers_are_not_degenerate():
    records = [mc(k, "ABCD"[k % 4], gold="ABCD"[(k + 1) % 4]) for k in range(40)]
    data = at(["answer_spread"], records, 0.95)["answer_spread"].to_json()
    assert data["degenerate"] is False and data["value"] == 0.25
    assert data["entropy_bits"] == pytest.approx(2.0) and "note" not in data


def test_a_family_key_is_recomputed_by_its_family():
    names = ["accuracy", "accuracy.<subject>", "answer_spread"]
    records = answered(30)
    summary = compute_metrics(names, records, seed=2)
    for key in ("accuracy.anatomy", "accuracy.biochemistry", "accuracy", "answer_spread"):
        assert recompute_metric(key, names, records, seed=2) == summary[key], key
    only_anatomy = [r for r in records if r.meta["subject"] == "anatomy"]
    assert recompute_metric("accuracy.biochemistry", names, only_anatomy, seed=2) is None
    assert recompute_metric("accuracy.anatomy", ["accuracy"], records) is None
