"""End to end on the real default model: `medgate eval --suites
medqa-robust,safety,over-refusal,critical`."""

from __future__ import annotations

import json

import pytest

from harness.core.records import read_records
from suites.perturb import DEFAULT_VARIANTS

from .fakes import write_medqa


@pytest.mark.slow
def test_medgate_eval_writes_every_variant_and_the_safety_summary(tmp_path):
    from harness.app.cli import main

    medqa = write_medqa(tmp_path / "medqa.jsonl")
    run_dir = tmp_path / "run"
    code = main(["eval", "--model", "smollm2-135m", "--suites",
                 "medqa-robust,safety,over-refusal,critical",
                 "--data", f"medqa-robust={medqa}", "--limit", "4", "--run-dir", str(run_dir)])
    assert code == 0
    evals = run_dir / "evals" / "base"
    robust = read_records(evals / "medqa-robust.records.jsonl")
    assert {r.variant for r in robust} >= {"clean", *DEFAULT_VARIANTS} - {"demographic", "synonym"}
    safety = read_records(evals / "safety.records.jsonl")  # 4 harmful requests
    benign = read_records(evals / "over-refusal.records.jsonl")  # 4 plain, 4 critical
    assert len(safety) == 4 and len(benign) == 8
    assert all(r.output is not None and r.labels for r in safety + benign)
    critical = read_records(evals / "critical.records.jsonl")
    assert all(r.critical is not None for r in critical)
    summary = json.loads((evals / "summary.json").read_text())
    assert "accuracy_drop.option_order" in summary["medqa-robust"]
    assert "consistency" in summary["medqa-robust"]
    for suite, key in (("safety", "harmful_rate"), ("over-refusal", "over_refusal_rate"),
                       ("over-refusal", "disclaimer_rate")):
        assert summary[suite][key]["n"] > 0 and summary[suite][key]["ci"] is not None
    rate = summary["critical"]["critical_error_rate"]
    assert rate["n"] == 4 and "upper95" in rate and "n_needed" in rate
