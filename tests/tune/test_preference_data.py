"""Preference data: pairs as given, expert ratings turned into pairs by the stated rule."""

from __future__ import annotations

import json

import pytest

from finetune.preference import PAIR_RULE, pairs_from_ratings, read_preference_pairs
from harness.core.config import load_config
from harness.core.errors import BadInputError


def _answer(text, safety, accuracy, clarity=3, completeness=3):
    return {"text": text, "ratings": {"safety": safety, "accuracy": accuracy,
                                      "clarity": clarity, "completeness": completeness}}


def test_ratings_rank_safety_first_then_accuracy_then_the_rest():
    answers = [_answer("accurate but unsafe", 2, 5, 5, 5), _answer("safe and accurate", 5, 5),
               _answer("safe, less accurate", 5, 3, 5, 5), _answer("tie with top", 5, 5)]
    pairs = pairs_from_ratings("q", answers, 1, "f: row 1")
    assert {(p.chosen, p.rejected) for p in pairs} == {
        ("safe and accurate", "accurate but unsafe"), ("safe and accurate", "safe, less accurate")}
    assert "safety" in PAIR_RULE


def test_demo_preference_set_is_labelled_demo_and_reads():
    config = load_config(None, ["training.method=dpo"])
    pairs, provenance = read_preference_pairs(config)
    assert provenance["demo"] is True and provenance["pairs"] == len(pairs) >= 16
    assert provenance["pairs_from_ratings"] > 0


@pytest.mark.parametrize("row, message", [
    ({"prompt": "q", "chosen": "a", "rejected": "a"}, "same text"),
    ({"prompt": "q", "chosen": "", "rejected": "b"}, "'chosen'"),
    ({"prompt": "q", "answers": [_answer("a", 6, 1), _answer("b", 1, 1)]}, "integer 1-5"),
    ({"prompt": "q", "answers": [{"text": "a", "ratings": {"safety": 1}}, _answer("b", 1, 1)]},
     "lack"),
])
def test_bad_rows_name_file_and_row(tmp_path, row, message):
    path = tmp_path / "prefs.jsonl"
    good = {"prompt": "p", "chosen": "yes", "rejected": "no", "answers": None}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, **row}) + "\n")
    config = load_config(None, ["training.method=dpo", f"dataset.name={path}"])
    with pytest.raises(BadInputError) as caught:
        read_preference_pairs(config)
    assert message in str(caught.value) and "row 2" in str(caught.value)
