"""Selection: the stated rule, recorded in the result."""

from __future__ import annotations

import json

from conftest import write_model

from gates.judge import judge_run
from gates.policy import load_policy
from harness.core.records import metric, update_summary


def test_best_primary_picks_highest_medqa_ties_earliest(make_run):
    run = make_run()
    for tag in ("checkpoint-20", "checkpoint-30", "checkpoint-40"):
        write_model(run, tag)
    write_model(run, "checkpoint-50", drop={"general": 20})  # best medqa but forgets
    for tag, acc in (("checkpoint-10", 0.50), ("checkpoint-20", 0.62), ("checkpoint-30", 0.62),
                     ("checkpoint-40", 0.55), ("checkpoint-50", 0.90)):
        eval_dir = run.eval_dir(tag)
        summary = json.loads((eval_dir / "summary.json").read_text())
        summary["medqa"]["accuracy"] = metric(acc, (acc - 0.1, acc + 0.1), 100)
        update_summary(eval_dir, "medqa", summary["medqa"])
    result = judge_run(run, load_policy("default"))
    assert result.verdict == "PROMOTE"
    assert result.selected == "checkpoint-20"
    assert result.selection["rule"] == "best_primary"
    assert "checkpoint-50" not in result.selection["passing"]
    last = judge_run(run, load_policy("default"), selection="last_passing")
    assert last.selected == "checkpoint-40"
    assert "last one saved" in last.selection["description"]
