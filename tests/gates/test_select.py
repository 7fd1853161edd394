"""Selection: the stated rule, recorded in the result."""

from __future__ import annotations

import json
import subprocess

from conftest import write_model

from gates.judge import judge_run
from gates.policy import load_policy
from harness.app.cli import main
from harness.core.summaries import metric, read_summaries, write_suite_summary


def test_best_primary_picks_highest_medqa_ties_earliest(make_run):
    run = make_run()
    for tag in ("checkpoint-20", "checkpoint-30", "checkpoint-40"):
        write_model(run, tag)
    write_model(run, "checkpoint-50", drop={"general": 20})  # best medqa but forgets
    for tag, acc in (("checkpoint-10", 0.50), ("checkpoint-20", 0.62), ("checkpoint-30", 0.62),
                     ("checkpoint-40", 0.55), ("checkpoint-50", 0.90)):
        eval_dir = run.eval_dir(tag)
        medqa = read_summaries(eval_dir)["medqa"]
        medqa.metrics["accuracy"] = metric(acc, (acc - 0.1, acc + 0.1), 100)
        write_suite_summary(eval_dir, "medqa", medqa)
    result = judge_run(run, load_policy("default"))
    assert result.verdict == "PROMOTE"
    assert result.selected == "checkpoint-20"
    assert result.selection.rule == "best_primary" and result.selection.source == "policy"
    assert "checkpoint-50" not in result.selection.passing
    last = judge_run(run, load_policy("default"), selection="last_passing")
    assert last.selected == "checkpoint-40"
    assert "last one saved" in last.selection.description
    assert last.selection.source == "config"


SELECT_LAST = """\
name: select-last
description: every checkpoint whose medqa accuracy was measured passes; the last one is chosen
min_n: 0
selection:
  rule: last_passing
  suite: medqa
  metric: accuracy
checks:
  - name: medqa_measured
    suite: medqa
    metric: accuracy
    op: ">="
    threshold: 0
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
