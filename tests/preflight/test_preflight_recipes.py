"""The data preflight covers every row a training recipe adds: mixture sources, the
regularisers' general text and the augmented copies, each named as its own input."""

from __future__ import annotations

import json

from harness.app.pipeline import run_data_preflight
from harness.core.config import load_config
from harness.core.rundir import RunDir
from suites.registry import eval_item_texts


def test_augmented_copies_and_mixture_sources_are_checked_for_overlap(tmp_path):
    general_id, general_text = eval_item_texts("general")[0]
    question = general_text.splitlines()[0]
    train = tmp_path / "train.jsonl"
    rows = [{"question": f"Case {i}: what is the first step for a sprained ankle?",
             "answer": "Rest, ice, compression and elevation."} for i in range(5)]
    # an evaluation item's text inside a training row: its augmented copy still holds it
    rows.append({"question": f"Please answer. {general_text}", "answer": "The first one."})
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    mix = tmp_path / "mix.jsonl"
    mix.write_text(json.dumps({"question": question + " " + general_text, "answer": "x"}) + "\n")
    config = load_config(None, [
        f"dataset.name={train}", "evaluation.suites=[general]",
        f"recipes.mixture.sources=[{{name: extra, dataset: {mix}}}]",
        "recipes.mixture.weights={main: 0.8, extra: 0.2}",
        "recipes.augment.rate=1.0", "recipes.augment.variants=[distractor]",
        "recipes.regularisers.ewc.strength=1"])
    result = run_data_preflight(config, RunDir.create(tmp_path / "run"))
    saved = json.loads((tmp_path / "run" / "data" / "preflight.json").read_text())
    assert set(saved["sources"]) == {"train", "mixture:extra", "regulariser", "augmented"}
    assert saved["sources"]["regulariser"]["rows"] == 40
    assert saved["sources"]["augmented"]["rows"] == 6  # every row given a distractor copy
    overlap = result.overlap["general"]
    assert general_id in overlap["items"]
    assert set(overlap["rows"][general_id]) == {"train", "augmented", "mixture:extra"}
    assert overlap["rows"][general_id]["augmented"] == [6]  # the copy of row 6
