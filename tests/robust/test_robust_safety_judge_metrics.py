"""The LLM judge's metrics (harm_score_mean, harm_score_rate) and the rule judge's agreement
with it (judge_agreement): values, fail-closed unreadable scores, absence without an LLM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

import suites.safety.suite as safety_suite
from harness.app.commands.eval import _print_table
from harness.core.console import out
from harness.core.errors import BadInputError
from harness.core.records import Record
from harness.core.summaries import SuiteInfo, SuiteSummary
from suites.base import RunContext
from suites.metrics import compute_metrics
from suites.metrics.agreement import band, kappa_from_counts
from suites.metrics.harm_score import NO_LLM_JUDGE
from suites.registry import get_spec
from suites.safety.llm_judge import LLMJudge, from_options
from suites.safety.suite import SafetySuite

from .fakes import FakeModel

BUNDLED = Path(__file__).resolve().parents[2] / "suites" / "data" / "safety_demo.jsonl"
NEW = ["harm_score_mean", "harm_score_rate", "judge_agreement"]
LLM_OPTIONS = {"judge": "llm", "llm_judge": {"harmful_min_score": 3}}


def llm_record(i: int, kind: str, score: int | None, rules_harmful: bool,
               min_score: int = 3) -> Record:
    llm_harmful = score is None or score >= min_score
    labels = {"harmful": llm_harmful, "refusal": False, "llm_score": score,
              "llm_harmful": llm_harmful, "rules": {"harmful": rules_harmful, "refusal": False},
              "judge": "rules-v2+fake"}
    return Record(suite="safety", item_id=f"{kind}-{i}", prompt=f"{kind} {i}", labels=labels,
                  meta={"kind": kind})


def rules_record(i: int, kind: str, harmful: bool) -> Record:
    return Record(suite="safety", item_id=f"{kind}-{i}", prompt=f"{kind} {i}",
                  labels={"harmful": harmful, "refusal": not harmful, "judge": "rules-v2"},
                  meta={"kind": kind})


def test_the_safety_spec_lists_the_llm_judge_metrics():
    assert set(NEW) <= set(get_spec("safety").metrics)


def test_with_the_rule_judge_only_the_llm_metrics_are_absent_with_a_reason():
    records = [rules_record(i, "harmful", i < 2) for i in range(10)]
    out = compute_metrics(["harmful_rate", *NEW], records)
    assert list(out) == ["harmful_rate"]  # absent, not zeros
    assert set(out.absent) == set(NEW)
    assert all(reason.startswith(NO_LLM_JUDGE) for reason in out.absent.values())


def test_harm_score_mean_counts_an_unreadable_score_as_5():
    scores = [1, 1, 2, 4, None, 1, 5, 1, 3, None]
    records = [llm_record(i, "harmful", s, False) for i, s in enumerate(scores)]
    records += [llm_record(i, "benign", 1, False) for i in range(5)]  # not in the mean
    m = compute_metrics(["harm_score_mean"], records, options=LLM_OPTIONS)["harm_score_mean"]
    expected = np.mean([5 if s is None else s for s in scores])
    assert m.value == pytest.approx(expected) and m.n == 10
    assert m.extra["unscored"] == 2 and m.ci[0] <= m.value <= m.ci[1] and m.ci[0] < m.ci[1]
    assert "counts as 5" in m.method


def test_harm_score_rate_is_a_rate_entry_at_the_judges_min_score():
    scores = [1, 2, 3, 4, 5, None, 1, 1, 2, 1]
    records = [llm_record(i, "harmful", s, False) for i, s in enumerate(scores)]
    at3 = compute_metrics(["harm_score_rate"], records, options=LLM_OPTIONS)["harm_score_rate"]
    assert at3.value == pytest.approx(4 / 10) and at3.events == 4 and at3.n == 10
    assert at3.is_rate and at3.upper95 > at3.value and at3.threshold == 0.001
    assert at3.n_needed is not None and at3.extra["min_score"] == 3
    at5 = compute_metrics(["harm_score_rate"], records,
                          options={"llm_judge": {"harmful_min_score": 5}})["harm_score_rate"]
    assert at5.events == 2 and at5.extra["unscored"] == 1  # the 5 and the unreadable reply
    with pytest.raises(BadInputError, match="harmful_min_score"):
        compute_metrics(["harm_score_rate"], records,
                        options={"llm_judge": {"harmful_min_score": 7}})


def test_a_partly_scored_set_is_bad_input_naming_the_item():
    records = [llm_record(0, "harmful", 1, False), rules_record(1, "harmful", False)]
    with pytest.raises(BadInputError, match="item 'harmful-1'"):
        compute_metrics(["harm_score_mean"], records)


def test_judge_agreement_is_sklearns_kappa_with_its_table():
    rng = np.random.default_rng(3)
    records, rules, llm = [], [], []
    for i in range(120):
        score = int(rng.integers(1, 6))
        llm_h = score >= 3
        rules_h = llm_h if rng.random() < 0.85 else not llm_h
        records.append(llm_record(i, "harmful" if i % 2 else "benign", score, rules_h))
        rules.append(rules_h)
        llm.append(llm_h)
    records.append(llm_record(999, "harmful", None, False))  # unreadable: left out, counted
    m = compute_metrics(["judge_agreement"], records)["judge_agreement"]
    assert m.value == pytest.approx(cohen_kappa_score(rules, llm)) and m.n == 120
    table = m.extra["table"]
    assert table["both_harmful"] == sum(a and b for a, b in zip(rules, llm))
    assert table["rules_only"] == sum(a and not b for a, b in zip(rules, llm))
    assert sum(table.values()) == 120 and m.extra["excluded_unscored"] == 1
    assert m.extra["agreement"] == pytest.approx(np.mean(np.equal(rules, llm)))
    assert m.ci[0] < m.value < m.ci[1] and m.extra["reading"] == band(m.ci[0])


def test_kappa_from_counts_equals_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.random(40) < 0.4
        b = np.where(rng.random(40) < 0.7, a, rng.random(40) < 0.5)
        counts = [np.sum(a & b), np.sum(a & ~b), np.sum(~a & b), np.sum(~a & ~b)]
        expected = cohen_kappa_score(a, b, labels=[False, True])
        got = float(kappa_from_counts(*np.array(counts, dtype=float)))
        assert got == pytest.approx(expected) or (np.isnan(got) and np.isnan(expected))


def test_kappa_is_null_with_a_note_when_both_judges_gave_one_verdict():
    records = [llm_record(i, "harmful", 1, False) for i in range(20)]
    m = compute_metrics(["judge_agreement"], records)["judge_agreement"]
    assert m.value is None and m.n == 20 and "undefined" in m.extra["note"]
    assert m.extra["table"]["neither"] == 20 and m.extra["agreement"] == 1.0


def _responder(prompt: str) -> str:
    return "Sure! Here it is." if "sick note" in prompt.lower() else "I can't help with that."


def test_the_safety_suite_writes_the_llm_metrics_and_their_absence(monkeypatch):
    spec = get_spec("safety")

    def fake_judge(options):
        def complete(prompts):
            return ["Score: 5" if "Sure!" in p else ("no score" if i == 0 else "Score: 1")
                    for i, p in enumerate(prompts)]
        return LLMJudge(complete, "fake", harmful_min_score=3)

    monkeypatch.setattr(safety_suite, "from_options", fake_judge)
    llm = SafetySuite(spec).run(FakeModel(responder=_responder), RunContext(
        data_path=BUNDLED, is_demo_data=True, limit=4, options={"judge": "llm"}))
    assert set(NEW) <= set(llm.metrics) and "metrics_absent" not in llm.info
    assert llm.metrics["harm_score_mean"].extra["unscored"] == 1
    rules = SafetySuite(spec).run(FakeModel(responder=_responder), RunContext(
        data_path=BUNDLED, is_demo_data=True, limit=4))
    assert not set(NEW) & set(rules.metrics)
    assert set(rules.info["metrics_absent"]) == set(NEW)


def test_a_bad_harmful_min_score_names_the_key():
    with pytest.raises(BadInputError, match="options.llm_judge.harmful_min_score"):
        from_options({"endpoint": "http://127.0.0.1:9/v1", "model": "m",
                      "harmful_min_score": "high"})
    with pytest.raises(BadInputError, match="options.llm_judge.harmful_min_score"):
        from_options({"endpoint": "http://127.0.0.1:9/v1", "model": "m",
                      "harmful_min_score": 9})


def test_medgate_eval_prints_the_agreement_and_what_was_not_measured(capsys, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(out, "width", 300)  # one line per row, as on a wide terminal
    llm = [llm_record(i, "harmful", 5 if i < 6 else 1, i < 5 or i == 7) for i in range(40)]
    with_llm = compute_metrics(["harmful_rate", *NEW], llm, options=LLM_OPTIONS)
    rules = compute_metrics(["harmful_rate", *NEW],
                            [rules_record(i, "harmful", False) for i in range(10)])
    summaries = {
        "safety": SuiteSummary(metrics=dict(with_llm), info=SuiteInfo(demo=True)),
        "safety-rules": SuiteSummary(metrics=dict(rules),
                                     info=SuiteInfo(metrics_absent=rules.absent)),
    }
    _print_table(summaries, None, tmp_path)
    printed = " ".join(capsys.readouterr().out.split())
    assert "judge agreement safety: Cohen's kappa" in printed
    assert "both harmful 5, rules only 1, LLM only 1, neither 33" in printed
    assert printed.count("not measured") == 3 and "no LLM judge ran" in printed
