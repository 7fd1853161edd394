"""Suites candidates are ranked on are scored on every choosing item, gated or not.

A selection metric (or early stopping's, or a study's objective) read from a suite no
gated check reads was once skipped while choosing, so every candidate ranked as None; and
one a check could settle early would rank candidates on different numbers of items.
"""

from __future__ import annotations

from gates.early_stop import GateEarlyStopping
from gates.policy import parse_policy
from harness.app.pipeline import _plans, compared_suites
from harness.core.config import load_config

POLICY = """\
name: ranked
selection: {rule: best_primary, suite: medqa, metric: accuracy, confirm_fraction: 0.5}
checks:
  - {name: forgetting, suite: general, metric: accuracy, judge: delta_vs_base, bound: point,
     screen: true, op: "<=", threshold: 0.5}
"""


def _config(*sets: str):
    return load_config(None, ["evaluation.suites=[medqa,general,pubmedqa,critical]", *sets])


def _early_stop(config, policy):
    return GateEarlyStopping(config.gates.early_stop, [c.name for c in policy.checks],
                             list(config.evaluation.suites))


def test_the_selection_suite_is_scored_on_every_choosing_item_though_no_check_reads_it():
    config, policy = _config(), parse_policy(POLICY, "test")
    compared = compared_suites(config, policy, _early_stop(config, policy))
    assert compared == {"medqa"}
    plans = _plans(config, policy, compared)
    assert "medqa" not in plans.choosing.skip and "medqa" in plans.choosing.compared
    assert {"pubmedqa", "critical"} <= plans.choosing.skip  # nothing ranks or gates on them
    assert plans.final.full == {"pubmedqa", "critical"}  # the report's suites, whole


def test_early_stopping_and_objectives_add_their_suites_and_last_passing_none():
    config = _config("gates.selection=last_passing", "gates.early_stop.metric=pubmedqa.accuracy")
    policy = parse_policy(POLICY, "test")
    compared = compared_suites(config, policy, _early_stop(config, policy),
                               frozenset({"critical", "not_evaluated"}))
    assert compared == {"pubmedqa", "critical"}


def test_without_a_split_the_compared_suites_are_not_scored_twice():
    config = _config()
    policy = parse_policy(POLICY.replace("confirm_fraction: 0.5", "confirm_fraction: 0.0"),
                          "test")
    plans = _plans(config, policy, frozenset({"medqa"}))
    assert plans.choosing.part == plans.final.part == "all"
    assert "medqa" in plans.final.skip and "medqa" not in plans.final.full
