"""The paired judges on synthetic records: directions, bounds and McNemar."""

from __future__ import annotations

import pytest

from gates.judge import judge_checkpoint
from gates.paired import forgetting_delta
from gates.policy import Check, Policy, load_policy
from harness.core.records import Record


def by_name(verdict):
    return {c.name: c for c in verdict.checks}


def test_improvement_requires_a_significant_gain(make_run):
    strict = load_policy("strict")
    flat = by_name(judge_checkpoint(make_run("flat"), "checkpoint-10", strict))
    assert flat["medqa_improvement"].passed is False
    gained = by_name(judge_checkpoint(make_run("gain", gain={"medqa": 15}), "checkpoint-10",
                                      strict))
    c = gained["medqa_improvement"]
    assert c.passed is True and c.bound == "ci_lower" and c.ci[0] > 0
    assert abs(c.value - 0.15) < 1e-9 and c.only_model == 15 and c.mcnemar_p < 0.001


def test_forgetting_delta_is_base_minus_model(make_run):
    c = by_name(judge_checkpoint(make_run(drop={"general": 4}), "checkpoint-10",
                                 load_policy("default")))["forgetting"]
    assert abs(c.value - 0.04) < 1e-9 and c.passed is True  # point 0.04 <= 0.05
    assert c.ci[0] <= c.value <= c.ci[1]
    strict = by_name(judge_checkpoint(make_run("s", drop={"general": 4}), "checkpoint-10",
                                      load_policy("strict")))["forgetting"]
    assert strict.compared == strict.ci[1] > 0.05 and strict.passed is False


def test_non_inferior_and_no_regression_bounds(make_run):
    run = make_run(drop={"medqa": 6})
    policy = Policy(name="t", checks=[
        Check(name="ni", suite="medqa", metric="accuracy", judge="non_inferior", margin=0.05),
        Check(name="nr", suite="medqa", metric="accuracy", judge="no_regression", margin=0.0),
    ])
    checks = by_name(judge_checkpoint(run, "checkpoint-10", policy))
    ni, nr = checks["ni"], checks["nr"]
    assert abs(ni.value + 0.06) < 1e-9
    assert ni.compared == ni.ci[0] and ni.threshold == -0.05 and ni.passed is False
    assert nr.compared == nr.ci[1] and nr.ci[1] < 0 and nr.passed is False
    assert "McNemar p=" in nr.reason and nr.only_base == 6 and nr.only_model == 0


def test_forgetting_delta_pairs_items():
    def recs(correct):
        return [Record(suite="general", item_id=str(i), prompt="p", correct=c)
                for i, c in enumerate(correct)]

    entry = forgetting_delta(recs([True] * 8 + [False] * 2), recs([True] * 5 + [False] * 5))
    assert entry.value == pytest.approx(0.3) and entry.n == 10
    assert entry.ci[0] <= 0.3 <= entry.ci[1] and entry.extra["unpaired"] == 0
    assert entry.to_json()["method"] == "paired bootstrap over items"
