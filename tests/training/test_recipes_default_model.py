"""Every recipe through `medgate train-and-gate` on the embedded default model: a few
steps, small suites, a loose test policy so the run promotes and writes lineage.json.
The recipes appear in lineage.json, train/recipes.json, the preflight and the model card."""

from __future__ import annotations

import json
import textwrap

import pytest

from finetune.recipes.sources import DEMO_GENERAL
from harness.app.cli import main

POLICY = """\
name: recipes-test
description: General-knowledge forgetting at most 0.9 (test policy).
min_n: 5
checks:
  - name: forgetting
    suite: general
    metric: accuracy
    judge: delta_vs_base
    bound: ci_upper
    op: "<="
    threshold: 0.9
"""


@pytest.mark.slow
def test_every_recipe_runs_through_train_and_gate_on_the_default_model(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(textwrap.dedent(POLICY))
    run = tmp_path / "run"
    settings = [
        "training.max_steps=4", "training.save_steps=4", "training.eval_steps=4",
        "dataset.max_samples=40",
        "evaluation.suites=[general]", "evaluation.limits={general: 24}",
        "output.merge_full_weights=false", f"gates.policy={policy}",
        "recipes.preset=rank-standard",
        f"recipes.mixture.sources=[{{name: general, dataset: {DEMO_GENERAL}}}]",
        "recipes.mixture.weights={main: 0.5, general: 0.5}",
        "recipes.mixture.end_weights={main: 0.9, general: 0.1}", "recipes.mixture.schedule=linear",
        "recipes.tasks.field=task", "recipes.tasks.weighting=temperature",
        "recipes.tasks.templates={diagnosis: 'Differential diagnosis task. {input}'}",
        "recipes.curriculum.order_by=loss",
        "recipes.regularisers.ewc.strength=5000", "recipes.regularisers.ewc.samples=4",
        "recipes.regularisers.l2_sp.strength=0.01", "recipes.regularisers.distill.strength=1",
        "recipes.augment.rate=0.3", "recipes.layer_lr_ratio=10",
    ]
    args = ["train-and-gate", "--run-dir", str(run)]
    for setting in settings:
        args += ["--set", setting]
    assert main(args) == 0
    lineage = json.loads((run / "promoted" / "lineage.json").read_text())
    assert set(lineage["recipes"]) == {"preset", "mixture", "tasks", "curriculum", "regularisers",
                                       "augment", "layer_lr_ratio"}
    consumed = [json.loads(x) for x in (run / "train" / "consumed.jsonl").read_text().splitlines()]
    assert len(consumed) == 4 * 2 and {c["source"] for c in consumed} <= {"main", "general"}
    history = json.loads((run / "train" / "history.json").read_text())
    logged = [h for h in history if "loss" in h]
    assert all("recipe.ewc" in h and "recipe.distill" in h and "recipe.l2_sp" in h for h in logged)
    preflight = json.loads((run / "data" / "preflight.json").read_text())
    assert {"mixture:general", "regulariser", "augmented"} <= set(preflight["sources"])
    card = (run / "report" / "model_card.html").read_text()
    assert "Training recipe" in card and "share of each training source" in card
    markdown = (run / "report" / "model_card.md").read_text()
    assert "## Training recipe" in markdown and "| mixture |" in markdown
    assert "share of each source trained at the last logging step: general" in markdown
