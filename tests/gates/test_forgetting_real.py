"""Forgetting caught for real: SmolLM2-135M trained at a destructive learning rate.

The synthetic gate tests prove the arithmetic; this one proves the measurement. The
embedded default is trained on the demo medical data at lr 0.05 (25x the demo's), its
general-knowledge accuracy falls, the forgetting check blocks it, and `medgate gate`
re-judges the same evidence under a looser policy to PROMOTE with no model to run: the
weights are deleted before re-judging.
"""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest

from gates.split import confirms
from harness.app.cli import main

POLICY = """\
name: forgetting-{name}
description: General-knowledge forgetting only, at most {threshold} (test policy).
min_n: 30
checks:
  - name: forgetting
    suite: general
    metric: accuracy
    judge: delta_vs_base
    bound: ci_upper
    op: "<="
    threshold: {threshold}
"""


@pytest.mark.slow
def test_destructive_learning_rate_is_blocked_for_forgetting_then_repromoted(tmp_path):
    policies = {}
    for name, threshold in (("strict", 0.05), ("loose", 0.9)):
        policies[name] = tmp_path / f"{name}.yaml"
        policies[name].write_text(textwrap.dedent(POLICY.format(name=name, threshold=threshold)))
    run = tmp_path / "run"
    code = main(["train-and-gate", "--run-dir", str(run),
                 "--set", "training.learning_rate=0.05", "--set", "training.max_steps=8",
                 "--set", "training.save_steps=8", "--set", "training.eval_steps=8",
                 "--set", "evaluation.suites=[general]", "--set", "evaluation.limits={}",
                 "--set", "output.merge_full_weights=false",
                 "--set", f"gates.policy={policies['strict']}",
                 # every item scored: re-judging under another policy may then promote with
                 # no model (a sequential run has no confirming items for an unchosen model)
                 "--exhaustive"])
    gate = json.loads((run / "gate.json").read_text())
    forgetting = gate["checkpoints"]["checkpoint-8"]["checks"][0]
    assert code == 1 and gate["verdict"] == "BLOCK"
    assert forgetting["name"] == "forgetting" and forgetting["passed"] is False
    ids = [json.loads(line)["item_id"] for line in
           (run / "evals" / "base" / "general.records.jsonl").read_text().splitlines()]
    assert len(ids) == 162 and forgetting["items"] == "selection"
    assert forgetting["value"] > 0.05 and forgetting["n"] == sum(not confirms(i, 0.5)
                                                                 for i in ids)
    assert any("forgetting" in reason for reason in gate["reasons"])

    for produced in ("checkpoints", "adapters"):  # nothing left that could be run again
        shutil.rmtree(run / produced)
    assert main(["gate", "--run-dir", str(run), "--policy", str(policies["loose"])]) == 0
    regate = json.loads((run / "gate.json").read_text())
    assert regate["verdict"] == "PROMOTE" and regate["selected"] == "checkpoint-8"
    assert regate["checkpoints"]["checkpoint-8"]["checks"][0]["value"] == forgetting["value"]
