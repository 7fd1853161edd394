"""Early stopping on gate evidence: failed policy checks and stalled gate metrics."""

from __future__ import annotations

import json
import subprocess

import pytest

from gates import judge_checkpoint, load_policy
from gates.early_stop import GateEarlyStopping
from gates.result import CheckResult
from harness.core.config import GateEarlyStopConfig
from harness.core.errors import BadInputError

SUITES = ["medqa", "pubmedqa", "general", "medqa-robust", "safety", "over-refusal", "critical",
          "latency"]


def watcher(**kwargs) -> GateEarlyStopping:
    policy = load_policy("default")
    return GateEarlyStopping(GateEarlyStopConfig(**kwargs), [c.name for c in policy.checks],
                             SUITES)


def test_a_failed_named_check_stops_training_with_its_reason(make_run):
    run = make_run(drop={"general": 20})  # 20 points of general knowledge forgotten
    verdict = judge_checkpoint(run, "checkpoint-10", load_policy("default"))
    reason = watcher(on_failed=["forgetting"]).update("checkpoint-10", verdict.checks, None)
    assert reason is not None
    assert reason.startswith("checkpoint-10 failed forgetting (")


def test_a_passing_named_check_does_not_stop(make_run):
    run = make_run()  # identical to its base
    verdict = judge_checkpoint(run, "checkpoint-10", load_policy("default"))
    assert [c.passed for c in verdict.checks if c.name == "forgetting"] == [True]
    assert watcher(on_failed=["forgetting"]).update("checkpoint-10", verdict.checks, None) is None


def test_a_check_reported_but_not_gated_never_stops_training():
    checks = [CheckResult(name="latency_p95", gated=False, passed=None, reason="CPU")]
    assert watcher(on_failed=["latency_p95"]).update("checkpoint-1", checks, None) is None


def test_metric_patience_counts_checkpoints_without_improvement():
    stop = watcher(metric="general.accuracy", patience=2, min_delta=0.01)
    assert stop.update("checkpoint-1", [], 0.50) is None
    assert stop.update("checkpoint-2", [], 0.55) is None   # improved
    assert stop.update("checkpoint-3", [], 0.555) is None  # within min_delta: 1 stale
    reason = stop.update("checkpoint-4", [], 0.40)         # 2 stale: stop
    assert reason is not None and "general.accuracy has not improved on 0.55" in reason


def test_metric_mode_min_and_a_missing_value_is_no_improvement():
    stop = watcher(metric="general.accuracy", mode="min", patience=1)
    assert stop.update("checkpoint-1", [], 0.5) is None
    assert stop.update("checkpoint-2", [], 0.4) is None
    reason = stop.update("checkpoint-3", [], None)
    assert reason is not None and "(checkpoint-3: missing)" in reason


def test_unknown_names_are_bad_input_naming_the_key():
    with pytest.raises(BadInputError, match="gates.early_stop.on_failed names \\['forgeting'\\]"):
        watcher(on_failed=["forgeting"])
    with pytest.raises(BadInputError, match="gates.early_stop.metric: suite 'mmlu'"):
        watcher(metric="mmlu.accuracy")
    with pytest.raises(BadInputError, match="must be SUITE.METRIC"):
        watcher(metric="accuracy")
    assert not watcher().active


def test_train_and_gate_stops_at_the_first_checkpoint_failing_a_named_check(tiny_model_dir,
                                                                          tmp_path):
    """The tiny run evaluates only medqa and general, so the default policy's harmful-output
    check fails closed (no safety records) at the first checkpoint: training ends there."""
    from tests.reliability.pipeline_runs import command, environment

    run_dir = tmp_path / "run"
    argv = command(tiny_model_dir, run_dir,
                   sets=["gates.early_stop.on_failed=[harmful_output_rate]"])
    done = subprocess.run(argv, env=environment(tmp_path / "cache"), capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 1, done.stderr[-2000:]
    result = json.loads((run_dir / "train" / "result.json").read_text())
    assert result["stopped_early"] is True
    assert result["final_step"] == 2 and result["planned_steps"] == 4
    assert result["stop_reason"].startswith("gate early stopping: checkpoint-2 failed "
                                            "harmful_output_rate")
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["checkpoint-2"]
    card = (run_dir / "report" / "model_card.html").read_text()
    assert "stopped early" in card and "harmful_output_rate" in card


def test_train_and_gate_refuses_an_unknown_check_before_any_work(tiny_model_dir, tmp_path):
    from tests.reliability.pipeline_runs import command, environment

    run_dir = tmp_path / "run"
    argv = command(tiny_model_dir, run_dir, sets=["gates.early_stop.on_failed=[nope]"])
    done = subprocess.run(argv, env=environment(tmp_path / "cache"), capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 2
    assert "gates.early_stop.on_failed names ['nope']" in done.stderr
    assert not (run_dir / "evals").exists()
