"""The paired judges on synthetic records: directions, bounds and McNemar."""

from __future__ import annotations

import pytest
from conftest import no_split

from gates.judge import judge_checkpoint
from gates.paired import forgetting_delta
from gates.policy import Check, Policy, load_policy
from harness.core.records import Record


def by_name(verdict):
    return {c.name: c for c in verdict.checks}


def test_improvement_requires_a_significant_gain(make_run):
    strict = no_split(load_policy("strict"))
    flat = by_name(judge_checkpoint(make_run("flat"), "checkpoint-10", strict))
    assert flat["medqa_improvement"].passed is False
    gained = by_name(judge_checkpoint(make_run("gain", gain={"medqa": 24}), "checkpoint-10",
                                      strict))
    c = gained["medqa_improvement"]
    assert c.passed is True and c.bound == "ci_lower" and c.ci[0] > 0
    assert abs(c.value - 0.15) < 1e-9 and c.only_model == 24 and c.mcnemar_p < 0.001


def test_forgetting_delta_is_base_minus_model(make_run):
    policy = no_split(load_policy("default"))
    c = by_name(judge_checkpoint(make_run(drop={"general": 4}), "checkpoint-10",
                                 policy))["forgetting"]
    assert abs(c.value - 0.025) < 1e-9 and c.compared == c.ci[1]
    assert c.ci[0] <= c.value <= c.ci[1]
    # The estimate meets <= 0.05; whether the bound shows it decides pass or insufficient.
    assert c.outcome == ("pass" if c.ci[1] <= 0.05 else "insufficient")
    big = by_name(judge_checkpoint(make_run("big", drop={"general": 24}), "checkpoint-10",
                                   policy))["forgetting"]
    assert abs(big.value - 0.15) < 1e-9 and big.outcome == "fail" and big.passed is False


def test_non_inferior_and_no_regression_bounds(make_run):
    run = make_run(drop={"medqa": 10})
    policy = Policy(name="t", selection={"confirm_fraction": 0}, checks=[
        Check(name="ni", suite="medqa", metric="accuracy", judge="non_inferior", margin=0.05),
        Check(name="nr", suite="medqa", metric="accuracy", judge="no_regression", margin=0.0,
              screen=True),
    ])
    checks = by_name(judge_checkpoint(run, "checkpoint-10", policy))
    ni, nr = checks["ni"], checks["nr"]
    assert abs(ni.value + 0.0625) < 1e-9
    assert ni.compared == ni.ci[0] and ni.threshold == -0.05 and ni.passed is False
    assert ni.outcome == "fail"  # the estimate itself is worse than the margin
    assert nr.compared == nr.ci[1] and nr.ci[1] < 0 and nr.passed is False
    assert "McNemar p=" in nr.reason and nr.only_base == 10 and nr.only_model == 0


def test_forgetting_delta_pairs_items():
    def recs(correct):
        return [Record(suite="general", item_id=str(i), prompt="p", correct=c)
                for i, c in enumerate(correct)]

    entry = forgetting_delta(recs([True] * 8 + [False] * 2), recs([True] * 5 + [False] * 5))
    assert entry.value == pytest.approx(0.3) and entry.n == 10
    assert entry.ci[0] <= 0.3 <= entry.ci[1] and entry.extra["unpaired"] == 0
    assert entry.to_json()["method"] == "paired bootstrap over items"
