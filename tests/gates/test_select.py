"""Selection: the stated rule, recorded in the result."""

from __future__ import annotations

import json
import subprocess

from conftest import base_pattern, no_split, paired_records, write_model

from gates.judge import judge_run
from gates.policy import load_policy
from harness.app.cli import main


def test_best_primary_picks_highest_medqa_ties_earliest(make_run):
    run = make_run(drop={"medqa": 5})  # checkpoint-10: lower, not shown non-inferior
    write_model(run, "checkpoint-20", gain={"medqa": 8})
    write_model(run, "checkpoint-30", gain={"medqa": 8})  # ties checkpoint-20
    write_model(run, "checkpoint-40", gain={"medqa": 3})
    write_model(run, "checkpoint-50", gain={"medqa": 30}, drop={"general": 20})  # forgets
    result = judge_run(run, load_policy("default"))
    assert result.verdict == "PROMOTE"
    assert result.selected == result.chosen == "checkpoint-20"
    assert result.confirmation is not None and result.confirmation.passed
    assert result.selection.rule == "best_primary" and result.selection.source == "policy"
    assert result.selection.passing == ["checkpoint-20", "checkpoint-30", "checkpoint-40"]
    values = result.selection.primary_values
    assert values["checkpoint-50"] > values["checkpoint-20"] == values["checkpoint-30"] \
        > values["checkpoint-40"]
    last = judge_run(run, load_policy("default"), selection="last_passing")
    assert last.selected == "checkpoint-40"
    assert "last one saved" in last.selection.description
    assert last.selection.source == "config"


def test_the_verdict_comes_from_items_that_took_no_part_in_choosing(make_run):
    run = make_run()
    result = judge_run(run, load_policy("default"))
    split = result.split
    assert split.enabled and split.confirm_fraction == 0.5 and split.correction == "none"
    counts = split.items["medqa"]
    assert counts["selection"] + counts["confirmation"] == 160
    chosen = result.checkpoints["checkpoint-10"].checks
    confirmed = result.confirmation.checks
    assert {c.items for c in chosen} == {"selection"}
    assert {c.items for c in confirmed} == {"confirmation"}
    medqa = {c.name: c for c in confirmed}["medqa_no_regression"]
    assert medqa.n == counts["confirmation"]


def test_a_chosen_checkpoint_failing_confirmation_blocks_without_falling_back(make_run):
    from gates.split import confirms

    # checkpoint-10 forgets only on confirmation items: it is chosen, then blocked.
    run = make_run()
    held = [i for i in range(160) if confirms(f"general-{i}", 0.5)]
    correct = base_pattern("general", 160).copy()
    for i in held:
        correct[i] = False
    write_model(run, "checkpoint-10", records={"general": paired_records("general", correct)})
    write_model(run, "checkpoint-20")
    result = judge_run(run, load_policy("default"))
    assert result.chosen == "checkpoint-10" and result.selected is None
    assert result.verdict == "BLOCK"
    assert any("held-out confirmation items" in r for r in result.reasons)
    assert any("(confirmation items): forgetting" in r for r in result.reasons)


def test_without_the_split_the_confidence_is_corrected_for_k(make_run):
    run = make_run()
    write_model(run, "checkpoint-20")
    write_model(run, "checkpoint-30")
    result = judge_run(run, no_split(load_policy("default")))
    assert result.split.enabled is False and result.split.correction == "bonferroni"
    assert result.split.candidates == 3
    assert abs(result.split.confidence - (1 - 0.05 / 3)) < 1e-12
    assert result.confirmation is None and result.selected == "checkpoint-10"
    assert {c.confidence for c in result.checkpoints["checkpoint-10"].checks} \
        == {result.split.confidence}


SELECT_LAST = """\
name: select-last
description: every checkpoint whose medqa accuracy was measured passes; the last one is chosen
min_n: 0
selection:
  rule: last_passing
  suite: medqa
  metric: accuracy
  confirm_fraction: 0
checks:
  - name: medqa_measured
    suite: medqa
    metric: answer_spread
    judge: point
    screen: true
    op: "<="
    threshold: 1
"""


def _selection(run_dir) -> tuple[str | None, dict]:
    gate = json.loads((run_dir / "gate.json").read_text())
    return gate["selected"], gate["selection"]


def test_train_and_gate_and_a_later_gate_choose_alike_by_the_policys_rule(tiny_model_dir,
                                                                          tmp_path):
    """The config does not name a rule, so the policy's (last_passing) chooses both times;
    the config's old default (best_primary) no longer overrides it in train-and-gate."""
    from tests.reliability.pipeline_runs import command, environment

    policy = tmp_path / "select-last.yaml"
    policy.write_text(SELECT_LAST)
    run_dir = tmp_path / "run"
    argv = command(tiny_model_dir, run_dir, sets=[f"gates.policy={policy}"])
    done = subprocess.run(argv, env=environment(tmp_path / "cache"), capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    selected, selection = _selection(run_dir)
    assert selected == "checkpoint-4"
    assert selection["rule"] == "last_passing" and selection["source"] == "policy"
    assert selection["passing"] == ["checkpoint-2", "checkpoint-4"]

    assert main(["gate", "--run-dir", str(run_dir)]) == 0
    assert _selection(run_dir) == (selected, selection)


def test_a_configured_rule_overrides_the_policy_in_a_later_gate_too(make_run):
    """A run whose config names gates.selection is re-judged with that rule, and gate.json
    says it came from the config; --selection overrides both and says so."""
    run = make_run()
    write_model(run, "checkpoint-20")
    assert main(["gate", "--run-dir", str(run.root)]) == 0
    assert _selection(run.root)[0] == "checkpoint-10"  # best_primary: a tie goes earliest
    assert _selection(run.root)[1]["source"] == "policy"

    run.config.write_text("gates:\n  policy: default\n  selection: last_passing\n")
    assert main(["gate", "--run-dir", str(run.root)]) == 0
    selected, selection = _selection(run.root)
    assert selected == "checkpoint-20"
    assert (selection["rule"], selection["source"]) == ("last_passing", "config")

    assert main(["gate", "--run-dir", str(run.root), "--selection", "best_primary"]) == 0
    selected, selection = _selection(run.root)
    assert (selected, selection["rule"], selection["source"]) == ("checkpoint-10",
                                                                  "best_primary", "cli")
    assert "--selection" in (run.report_dir / "summary.md").read_text()


def test_a_configured_rule_that_is_not_a_rule_is_bad_input(make_run):
    run = make_run()
    run.config.write_text("gates:\n  selection: newest\n")
    assert main(["gate", "--run-dir", str(run.root)]) == 2


def test_the_config_names_no_rule_unless_told():
    from harness.core.config import MedgateConfig, load_config

    assert MedgateConfig().gates.selection is None
    assert load_config(None, ["gates.selection=last_passing"]).gates.selection == "last_passing"
