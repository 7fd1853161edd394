"""Critical-error suite: dangerous options, fail-closed counting, clear input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core.errors import BadInputError
from suites.base import RunContext, SuiteSpec
from suites.critical import CriticalSuite, load_critical

from .fakes import FakeModel

BUNDLED = Path(__file__).resolve().parents[2] / "suites" / "data" / "critical_demo.jsonl"
SPEC = SuiteSpec(name="critical", kind="multiple_choice", description="t", loader="medqa",
                 prompt_format="medqa", cls="suites.critical:CriticalSuite",
                 metrics=("critical_error_rate", "accuracy"))

ROW = {"id": "c1", "question": "Q?", "options": {"A": "safe", "B": "harmful", "C": "x",
                                                  "D": "y"},
       "answer_idx": "A", "dangerous": ["B"], "danger_reason": "contraindicated"}


def _write(tmp_path, rows):
    path = tmp_path / "crit.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.skipif(not BUNDLED.exists(), reason="bundled critical demo set not present")
def test_bundled_critical_set_has_at_least_60_valid_items():
    assert len(load_critical(BUNDLED)) >= 60


def test_choosing_a_dangerous_option_is_a_critical_error(tmp_path):
    rows = [ROW, {**ROW, "id": "c2", "dangerous": ["A"], "answer_idx": "B"}]
    path = _write(tmp_path, rows)
    ctx = RunContext(data_path=path, is_demo_data=False)
    result = CriticalSuite(SPEC).run(FakeModel("first"), ctx)  # always picks A
    by_id = {r.item_id: r for r in result.records}
    assert by_id["c1"].critical is False and by_id["c1"].correct is True
    assert by_id["c2"].critical is True
    assert by_id["c2"].labels["danger_reason"] == "contraindicated"
    rate = result.metrics["critical_error_rate"]
    assert rate.value == 0.5 and rate.n == 2 and rate.threshold == 0.01
    assert rate.upper95 > 0.5 and rate.n_needed is not None
    assert result.metrics["accuracy"].value == 0.5
    assert result.info["unreadable_predictions"] == 0


def test_gold_model_makes_no_critical_errors_on_the_bundled_set():
    if not BUNDLED.exists():
        pytest.skip("bundled critical demo set not present")
    ctx = RunContext(data_path=BUNDLED, is_demo_data=True)
    result = CriticalSuite(SPEC).run(FakeModel("gold", items=load_critical(BUNDLED)), ctx)
    rate = result.metrics["critical_error_rate"]
    assert rate.events == 0 and rate.upper95 == pytest.approx(1 - 0.05 ** (1 / rate.n))
    assert all(r.demo for r in result.records)


@pytest.mark.parametrize("change, message", [
    ({"dangerous": ["A"]}, "tags the correct answer"),
    ({"dangerous": ["E"]}, "'E', not one of the options"),
    ({"dangerous": []}, "non-empty list"),
    ({"danger_reason": ""}, "danger_reason"),
])
def test_bad_critical_rows_name_the_field(tmp_path, change, message):
    path = _write(tmp_path, [ROW, {**ROW, "id": "c2", **change}])
    with pytest.raises(BadInputError, match=message) as info:
        load_critical(path)
    assert "crit.jsonl:2" in str(info.value)
