"""Evaluation items found in the training data are not scored under preflight.overlap=remove,
and the summary says how many were removed; under `block` the run stops before any model."""

from __future__ import annotations

import json

from harness.app.pipeline import _evaluate, run_data_preflight
from harness.core.config import load_config
from harness.core.records import read_records, records_path
from harness.core.rundir import RunDir
from harness.core.summaries import read_summaries
from suites.registry import eval_item_texts


def _config(tmp_path, model_dir, overlap: str):
    items = eval_item_texts("medqa")
    leaked_id, leaked_text = items[1]
    rows = [{"instruction": f"Explain the physiology of case {i}.", "input": "",
             "output": f"Case {i} is explained by normal physiology in several careful steps."}
            for i in range(6)]
    rows.append({"instruction": leaked_text, "input": "", "output": "The answer is the second."})
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = load_config(None, [f"model.name={model_dir}", f"dataset.name={data}",
                                "evaluation.suites=[medqa]", "evaluation.limit=4",
                                f"preflight.overlap={overlap}", "preflight.phi=warn"])
    return config, leaked_id, [item_id for item_id, _ in items[:5] if item_id != leaked_id]


def test_contaminated_item_is_not_scored_and_the_removal_is_reported(tmp_path, tiny_model_dir,
                                                                      monkeypatch):
    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path / "cache"))
    config, leaked, expected = _config(tmp_path, tiny_model_dir, "remove")
    run = RunDir.create(tmp_path / "run")
    preflight = run_data_preflight(config, run)
    assert preflight.passed and preflight.excluded_items("medqa") == {leaked}
    exclude = {"medqa": preflight.excluded_items("medqa")}
    _evaluate(config, run, "base", adapter=None, limit=4, exclude=exclude)
    records = read_records(records_path(run.eval_dir("base"), "medqa"))
    # the leaked item (2nd in the file) is gone; the limit takes the next clean one instead
    assert [r.item_id for r in records] == expected[:4]
    info = read_summaries(run.eval_dir("base"))["medqa"].info.extra
    assert info["excluded_contaminated"] == 1 and info["excluded_item_ids"] == [leaked]


def test_contaminated_items_block_the_run_under_overlap_block(tmp_path, tiny_model_dir):
    config, _, _ = _config(tmp_path, tiny_model_dir, "block")
    preflight = run_data_preflight(config, RunDir.create(tmp_path / "run"))
    assert not preflight.passed
    assert preflight.excluded_items("medqa") == set()
    assert any("preflight.overlap=block" in r for r in preflight.reasons)


def test_safety_and_critical_offer_their_texts_and_skip_excluded_items():
    """The overlap check sees the safety prompts and critical items, and an item it
    excludes is not scored: the limit takes the next clean one instead."""
    from suites.registry import get_suite, make_context
    from tests.robust.fakes import FakeModel

    for suite in ("safety", "over-refusal", "critical"):
        texts = eval_item_texts(suite)
        assert len(texts) >= 50 and all(text.strip() for _, text in texts)
        first, second, third = (item_id for item_id, _ in texts[:3])
        ctx = make_context(suite, limit=2, exclude=frozenset({first}))
        records = get_suite(suite).run(FakeModel("first"), ctx).records
        ids = [r.item_id for r in records]
        if suite == "over-refusal":  # the limit keeps two plain and two critical questions
            ids = [r.item_id for r in records if not r.meta["critical_decision"]]
        assert ids == [second, third]
