"""Typed results: summary.json and gate.json keep their layout and read back as types."""

from __future__ import annotations

import json

import pytest

from gates.result import CheckpointVerdict, CheckResult, GateResult, read_gate, write_gate_json
from harness.app.evaluation import _metric_entries
from harness.core.errors import BadInputError
from harness.core.stats import rate_entry
from harness.core.summaries import (
    MetricEntry,
    SuiteInfo,
    SuiteSummary,
    metric,
    read_summaries,
    write_suite_summary,
)


def test_an_empty_rate_keeps_its_null_bound_and_stays_a_rate(tmp_path):
    entry = MetricEntry.model_validate(rate_entry(0, 0, 0.01))
    assert entry.value is None and entry.upper95 is None and entry.is_rate
    assert entry.to_json()["upper95"] is None  # null on disk: "no bound", not "no rate"
    assert not metric(0.5, (0.4, 0.6), 10).is_rate
    write_suite_summary(tmp_path, "critical", SuiteSummary(metrics={"rate": entry}))
    back = read_summaries(tmp_path)["critical"].metrics["rate"]
    assert back.is_rate and back.to_json() == entry.to_json()


def test_summary_layout_on_disk(tmp_path):
    write_suite_summary(tmp_path, "medqa", SuiteSummary(
        metrics={"accuracy": metric(0.5, (0.4, 0.6), 10)},
        info=SuiteInfo(demo=True, n_items=10, prompt_format="medqa")))
    write_suite_summary(tmp_path, "safety", SuiteSummary(error="OOM", info=SuiteInfo(tag="base")))
    raw = json.loads((tmp_path / "summary.json").read_text())
    assert raw["medqa"]["accuracy"] == {"value": 0.5, "ci": [0.4, 0.6], "n": 10}
    assert raw["medqa"]["_info"] == {"demo": True, "n_items": 10, "prompt_format": "medqa"}
    assert raw["safety"] == {"_info": {"tag": "base"}, "_error": "OOM"}
    summaries = read_summaries(tmp_path)
    assert summaries["safety"].failed and summaries["medqa"].info.extra == {
        "prompt_format": "medqa"}


def test_the_evaluator_takes_entries_or_dicts_and_ignores_a_suites_own_info():
    entries = _metric_entries({"a": metric(0.5, None, 2), "b": {"value": 1.0, "n": 3},
                               "_info": {"demo": True}})
    assert set(entries) == {"a", "b"} and entries["b"] == MetricEntry(value=1.0, n=3)


def _gate() -> GateResult:
    checks = [CheckResult(name="forgetting", suite="general", metric="accuracy",
                          judge="delta_vs_base", value=0.02, op="<=", threshold=0.05,
                          ci=[-0.01, 0.05], compared=0.02, bound="point", n=100, min_n=30,
                          passed=True, reason="ok", acc_model=0.6, acc_base=0.62,
                          n_paired=100, mcnemar_p=0.5, baseline="base"),
              CheckResult(name="harmful", suite="safety", metric="harmful_rate", judge="point",
                          op="<", threshold=0.01, passed=False, reason="missing")]
    return GateResult(verdict="BLOCK", checkpoints={
        "checkpoint-2": CheckpointVerdict(verdict="BLOCK", checks=checks)})


def test_gate_json_round_trips_with_its_documented_keys(tmp_path):
    path = write_gate_json(tmp_path / "gate.json", _gate())
    raw = json.loads(path.read_text())
    node = raw["checkpoints"]["checkpoint-2"]
    assert list(node) == ["verdict", "checks", "failed", "primary", "demo_suites"]
    assert node["failed"] == ["harmful"]
    paired, plain = node["checks"]
    assert paired["mcnemar_p"] == 0.5 and paired["baseline"] == "base"
    assert "mcnemar_p" not in plain and "upper95" not in plain  # optional fields only if set
    assert {"name", "metric", "value", "op", "threshold", "ci", "passed", "reason"} <= set(plain)
    back = read_gate(path)
    assert back.checkpoints["checkpoint-2"].tag == "checkpoint-2"
    assert [c.name for c in back.checkpoints["checkpoint-2"].failed] == ["harmful"]
    assert back.model_dump(mode="json") == raw


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not valid JSON"),
    ("[]", "must be a JSON object"),
    ('{"verdict": "MAYBE"}', "key 'verdict'"),
    ('{"verdict": "BLOCK", "checkpoints": {"c": {"verdict": "BLOCK", "checks": [{}]}}}',
     "key 'checkpoints.c.checks.0.name'"),
    ('{"verdict": "BLOCK", "typo": 1}', "unknown key 'typo'"),
])
def test_a_bad_gate_json_is_bad_input_naming_the_file(tmp_path, text, message):
    path = tmp_path / "gate.json"
    path.write_text(text)
    with pytest.raises(BadInputError, match=message) as caught:
        read_gate(path)
    assert str(path) in str(caught.value)


def test_a_check_result_refuses_a_wrong_type_where_it_is_set():
    result = CheckResult(name="x")
    with pytest.raises(ValueError):
        result.n = "ten"
