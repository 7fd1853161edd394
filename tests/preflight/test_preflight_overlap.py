"""Train/test overlap: a training set that contains evaluation items, verbatim or lightly
edited, is caught; unrelated training text is not; the policy removes or blocks."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from harness.app.preflight import find_overlap, load_excluded, normalize_words, run_preflight
from harness.core.config import PreflightConfig

DATA = Path(__file__).resolve().parents[2] / "suites" / "data"


def _pubmedqa_items() -> list[tuple[str, str]]:
    data = json.loads((DATA / "pubmedqa_demo.json").read_text(encoding="utf-8"))
    return [(pmid, "\n".join([*e["CONTEXTS"], e["QUESTION"]])) for pmid, e in data.items()]


def _general_items() -> list[tuple[str, str]]:
    items = []
    for line in (DATA / "general_demo.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        items.append((row["id"], "\n".join([row["question"], *row["choices"]])))
    return items


def _clean_training_rows() -> list[str]:
    rows = []
    for line in (DATA / "medtext_heldout_demo.jsonl").read_text(encoding="utf-8").splitlines():
        rows.append(json.loads(line)["text"])
    return rows


def _light_edit(text: str, rng: random.Random) -> str:
    """Change case, punctuation, spacing and one word in every 30: what a careless copy does."""
    words = text.split()
    for i in range(0, len(words), 30):
        words[i] = rng.choice(["the", "a", "this", "patients"])
    edited = "  ".join(words).upper()
    return edited.replace(",", " ;").replace(".", "!")


@pytest.fixture(scope="module")
def suites():
    return {"pubmedqa": _pubmedqa_items(), "general": _general_items()}


def test_training_set_containing_eval_items_is_caught(suites):
    rng = random.Random(0)
    pub = suites["pubmedqa"]
    verbatim = [pub[i] for i in (0, 5, 9)]
    edited = [pub[i] for i in (2, 14, 30)]
    rows = [f"Question: {text}\nAnswer: yes." for _, text in verbatim]
    rows += [f"Summarise: {_light_edit(text, rng)}" for _, text in edited]
    rows += _clean_training_rows()
    texts = [(i + 1, t) for i, t in enumerate(rows)]
    overlap = find_overlap(texts, suites)
    found = overlap["pubmedqa"]
    assert set(found["items"]) == {i for i, _ in verbatim + edited}
    assert all(found["kinds"][i] == "exact" for i, _ in verbatim)
    assert all(found["kinds"][i] == "ngram" for i, _ in edited)
    assert found["train_rows"][verbatim[0][0]] == [1]
    assert overlap["general"]["n"] == 0 and overlap["general"]["items_checked"] == len(suites["general"])


def test_short_items_are_caught_only_when_contained_whole(suites):
    general = suites["general"]
    item_id, text = general[0]
    assert len(normalize_words(text)) < 13
    texts = [(1, f"Quiz night. {text.upper()} Answer: the Amazon."),
             (2, "What is the longest river?")]
    overlap = find_overlap(texts, {"general": general})["general"]
    assert overlap["items"] == [item_id] and overlap["kinds"][item_id] == "exact"
    assert overlap["train_rows"][item_id] == [1]


def test_shared_prompt_boilerplate_is_not_contamination():
    stem = "Answer the following question with yes no or maybe based on the abstract below"
    items = [(f"q{i}", f"{stem}. Study {i}: " + " ".join(f"w{i}x{j}" for j in range(20)))
             for i in range(6)]
    texts = [(1, f"{stem}. An unrelated abstract about asthma inhalers in children.")]
    result = find_overlap(texts, {"s": items})["s"]
    assert result["n"] == 0 and result["template_ngrams_ignored"] > 0
    texts.append((2, items[3][1]))
    assert find_overlap(texts, {"s": items})["s"]["items"] == ["q3"]


def test_policy_remove_passes_and_lists_items_to_exclude(suites, tmp_path):
    item_id, text = suites["pubmedqa"][7]
    out = tmp_path / "preflight.json"
    result = run_preflight([(1, text), (2, "Unrelated row about hand hygiene.")], suites,
                           config=PreflightConfig(overlap="remove"), out_path=out)
    assert result.passed
    assert result.contaminated == {"pubmedqa": [item_id]}
    assert result.excluded_items("pubmedqa") == {item_id}
    assert load_excluded(out) == {"pubmedqa": {item_id}}
    data = json.loads(out.read_text())
    assert data["overlap"] == {"pubmedqa": 1, "general": 0} and data["overlap_remaining"] == 0
    assert data["overlap_detail"]["pubmedqa"]["items"] == [item_id]
    assert any("removed from scoring" in w for w in result.warnings)


def test_policy_block_fails_the_gate(suites, tmp_path):
    item_id, text = suites["pubmedqa"][7]
    result = run_preflight([(1, text)], suites, config=PreflightConfig(overlap="block"),
                           out_path=tmp_path / "p.json")
    assert not result.passed and result.verdict == "BLOCK"
    assert result.contaminated == {"pubmedqa": [item_id]}
    assert "overlap" in result.reasons[0] and "pubmedqa: 1 of" in result.reasons[0]
    assert result.excluded_items("pubmedqa") == set()
    assert load_excluded(tmp_path / "p.json") == {}
    assert json.loads((tmp_path / "p.json").read_text())["overlap_remaining"] == 1


def test_ngram_size_follows_the_config():
    item = ("i1", " ".join(f"word{j}" for j in range(30)))
    row = (1, " ".join(f"word{j}" for j in range(10, 20)) + " and more")  # shares 10 words
    assert find_overlap([row], {"s": [item]}, n=13)["s"]["n"] == 0
    assert find_overlap([row], {"s": [item]}, n=8)["s"]["n"] == 1
