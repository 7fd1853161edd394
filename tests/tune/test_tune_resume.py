"""An embedded study killed with SIGKILL mid-trial and started again continues: finished
trials are not run again, the cut trial's parameters run again, and the study ends with N
trials, its best feasible trial confirmed (or BLOCK with each trial's reasons)."""

from __future__ import annotations

import json
import time

import optuna
import pytest
from optuna.trial import TrialState

from .conftest import environment, start, tune_command

# Whole studies and runs as subprocesses: minutes on two cores.
pytestmark = pytest.mark.slow

TRIALS = 3


def _trained(run_dir) -> int:
    log = run_dir / "train" / "train.log"
    if not log.exists():
        return 0
    return sum(" start model=" in line for line in log.read_text(encoding="utf-8").splitlines())


def test_killed_study_continues_without_repeating(tmp_path, tiny_model_dir, study_files):
    policy, space = study_files
    study_dir = tmp_path / "study"
    env = environment(tmp_path / "cache")
    argv = tune_command(tiny_model_dir, policy, space, study_dir, TRIALS)
    first = start(argv, env, tmp_path / "first.log")
    second_trial = study_dir / "trials" / "trial-0001" / "train" / "train.log"
    deadline = time.monotonic() + 600
    while not second_trial.exists():  # trial 0 finished, trial 1 is training
        assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first.kill()  # SIGKILL: no handler runs, the trial stays RUNNING in the study
    first.wait()
    storage = f"sqlite:///{study_dir / 'study.db'}"
    before = optuna.load_study(study_name="study", storage=storage).get_trials()
    assert [t.state for t in before] == [TrialState.COMPLETE, TrialState.RUNNING]

    second = start(argv, env, tmp_path / "second.log")
    code = second.wait(timeout=900)
    log = (tmp_path / "second.log").read_text(encoding="utf-8")
    assert code in (0, 1), log[-3000:]

    trials = optuna.load_study(study_name="study", storage=storage).get_trials()
    interrupted = trials[1]
    assert interrupted.state == TrialState.FAIL and "interrupted" in interrupted.user_attrs
    retried = [t for t in trials if t.user_attrs.get("retry_of") == 1]
    assert len(retried) == 1 and retried[0].params == interrupted.params
    ran = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(ran) == TRIALS
    # the restarted sampler does not replay the first process's draws
    assert len({tuple(sorted(t.params.items())) for t in ran}) == TRIALS
    # trial 0 finished before the kill and was not trained again
    assert _trained(study_dir / "trials" / "trial-0000") == 1
    assert trials[0].datetime_complete == before[0].datetime_complete

    result = json.loads((study_dir / "result.json").read_text(encoding="utf-8"))
    assert result["verdict"] == ("PROMOTE" if code == 0 else "BLOCK")
    assert (study_dir / "report" / "study.html").exists()
    if result["verdict"] == "PROMOTE":
        best = result["best_trial"]
        best_dir = study_dir / "trials" / f"trial-{best:04d}"
        gate = json.loads((best_dir / "gate.json").read_text(encoding="utf-8"))
        assert gate["verdict"] == "PROMOTE" and (best_dir / "promoted").is_dir()
        # the confirmation gate judged the chosen checkpoint on the held-out items
        assert gate["chosen"] == gate["selected"] and gate["confirmation"]["checks"]
        assert all(c.get("items", "confirmation") == "confirmation"
                   for c in gate["confirmation"]["checks"])
        # only the promoted trial was confirmed: no other trial has a verdict or promotion
        others = [p for p in (study_dir / "trials").iterdir() if p != best_dir]
        assert not any((p / "gate.json").exists() or (p / "promoted").exists() for p in others)
    else:
        assert any("trial" in r for r in result["reasons"])
