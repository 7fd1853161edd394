"""The study report renders from result.json alone: trials with their failing checks, the
history, importances and the Pareto front; text from records is escaped."""

from __future__ import annotations

import json

import pytest

from harness.core.errors import BadInputError
from reports.study import render_study

RECORD = {
    "study": "s", "storage": "sqlite:///x", "n_trials": 3, "verdict": "BLOCK",
    "best_trial": None, "promoted_run": None, "training_demo": True,
    "reasons": ["<script>alert(1)</script>"], "pareto_front": [0],
    "space": {"sampler": "tpe", "seed": 0, "params": {"training.learning_rate": {}, "peft.r": {}}},
    "objectives": [{"name": "medqa.accuracy", "direction": "maximize"},
                   {"name": "forgetting general.accuracy", "direction": "minimize"}],
    "policy": {"name": "p"},
    "importances": {"medqa.accuracy": {"error": "1 completed trial(s)"},
                    "forgetting general.accuracy": {"peft.r": 0.7, "training.learning_rate": 0.3}},
    "trials": [
        {"number": 0, "state": "COMPLETE", "params": {"training.learning_rate": 0.00125, "peft.r": 4},
         "values": [0.5, 0.01], "feasible": True, "failing": {}, "chosen": "checkpoint-2",
         "measured": "checkpoint-2"},
        {"number": 1, "state": "COMPLETE", "params": {"training.learning_rate": 0.01, "peft.r": 8},
         "values": [0.4, 0.2], "feasible": False, "measured": "checkpoint-2",
         "failing": {"checkpoint-2": {"forgetting": "0.2 > 0 <b>"}}},
        {"number": 2, "state": "FAIL", "params": {}, "values": None, "feasible": False,
         "failing": {}, "error": "boom"}],
}


def test_report_from_record(tmp_path):
    (tmp_path / "result.json").write_text(json.dumps(RECORD), encoding="utf-8")
    html = render_study(tmp_path / "result.json", tmp_path / "study.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<strong>forgetting</strong>: 0.2 &gt; 0 &lt;b&gt;" in html
    assert "0.00125" in html and "error: boom" in html
    assert 'id="pareto"' in html and html.count("data:image/svg") == 2  # history, front
    assert "Demo training data" in html and "Not computed: 1 completed trial(s)" in html


def test_not_a_study_result(tmp_path):
    (tmp_path / "result.json").write_text("{}", encoding="utf-8")
    with pytest.raises(BadInputError, match="not a study result"):
        render_study(tmp_path / "result.json", tmp_path / "study.html")
