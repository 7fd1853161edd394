"""A suite's info says how to recompute its metrics; recomputing gives its summary back."""

from __future__ import annotations

import json

import pytest

from harness.core.summaries import SuiteInfo
from suites.base import RunContext
from suites.benchmark import MultipleChoiceSuite
from suites.metrics import recompute_metric
from suites.perturb.suite import RobustSuite
from suites.registry import DATA_DIR, get_spec
from suites.safety.suite import SafetySuite

from .fakes import LEXICON_YAML, FakeModel, write_medqa


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The results of a multiple-choice, a robustness and a safety suite, fake model."""
    folder = tmp_path_factory.mktemp("recompute")
    medqa_file = write_medqa(folder / "medqa.jsonl")
    lexicon_file = folder / "lexicon.yaml"
    lexicon_file.write_text(LEXICON_YAML, encoding="utf-8")
    medqa = MultipleChoiceSuite(get_spec("medqa")).run(
        FakeModel("content"), RunContext(data_path=DATA_DIR / "medqa_demo.jsonl",
                                         is_demo_data=True, seed=5))
    robust = RobustSuite(get_spec("medqa-robust")).run(
        FakeModel("content"), RunContext(data_path=medqa_file, is_demo_data=True, seed=11,
                                         options={"lexicon": str(lexicon_file)}))
    safety = SafetySuite(get_spec("safety")).run(
        FakeModel(), RunContext(data_path=DATA_DIR / "safety_demo.jsonl", is_demo_data=True,
                                max_new_tokens=16))
    return {"medqa": medqa, "medqa-robust": robust, "safety": safety}


def test_recomputing_every_key_gives_the_summary_entry(results):
    for name, result in results.items():
        info = SuiteInfo.model_validate(json.loads(json.dumps(result.info)))
        assert info.metrics == list(get_spec(name).metrics), name
        assert info.metric_seed is not None and isinstance(info.metric_options, dict)
        if name == "medqa-robust":  # resolved by the suite, not only given
            assert info.metric_options["variants"] == result.info["variants"]
        for key, entry in result.metrics.items():
            again = recompute_metric(key, info.metrics, result.records,
                                     options=info.metric_options, seed=info.metric_seed,
                                     confidence=0.95)
            assert again is not None, (name, key)
            assert (again.value, again.ci, again.n) == (entry.value, entry.ci, entry.n), \
                (name, key)
            assert again.to_json() == entry.to_json(), (name, key)


def test_recompute_on_a_subset_and_at_another_confidence(results):
    result = results["medqa-robust"]
    info = result.info
    half = {r.item_id for r in result.records if r.variant == "clean"}
    half = set(sorted(half)[: len(half) // 2])
    subset = [r for r in result.records if r.item_id in half]
    entry = recompute_metric("consistency", info["metrics"], subset,
                             options=info["metric_options"], seed=info["metric_seed"],
                             confidence=0.99)
    assert entry.n == len(half) and entry.confidence == 0.99
    assert recompute_metric("accuracy.typo_keyboard", info["metrics"], subset,
                            options=info["metric_options"], seed=0).n <= len(half)


@pytest.mark.parametrize("key", ["ece", "accuracy_drop", "harmful_rate", "flips"])
def test_a_key_no_listed_metric_writes_is_none(key, results):
    result = results["medqa-robust"]
    assert recompute_metric(key, result.info["metrics"], result.records,
                            options=result.info["metric_options"], seed=0) is None
