"""`medgate tune --workers 2` on the embedded SQLite study: the process starts a second
worker on this machine, the two run exactly N trials between them, none twice, and the
study finishes once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from .conftest import environment, start, tune_command

# Whole studies and runs as subprocesses: minutes on two cores.
pytestmark = pytest.mark.slow

TRIALS = 4


def test_two_local_workers_share_the_embedded_study(tmp_path, tiny_model_dir, study_files):
    policy, space = study_files
    study_dir = tmp_path / "study"
    argv = tune_command(tiny_model_dir, policy, space, study_dir, TRIALS, "--workers", "2")
    main = start(argv, environment(tmp_path / "cache"), tmp_path / "tune.log")
    code = main.wait(timeout=900)
    log = (tmp_path / "tune.log").read_text(encoding="utf-8")
    assert code in (0, 1), log[-3000:]

    storage = f"sqlite:///{study_dir / 'study.db'}"
    trials = optuna.load_study(study_name="study", storage=storage).get_trials()
    ran = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(ran) == TRIALS, [(t.number, t.state, t.user_attrs) for t in trials]
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert all("surplus" in t.user_attrs for t in trials if t not in ran)
    for trial in ran:  # each trained once, in its own run directory
        train_log = Path(trial.user_attrs["run_dir"]) / "train" / "train.log"
        starts = [line for line in train_log.read_text(encoding="utf-8").splitlines()
                  if " start model=" in line]
        assert len(starts) == 1, trial.user_attrs["run_dir"]
    assert len({t.user_attrs["run_dir"] for t in ran}) == TRIALS
    assert len(Counter(t.user_attrs["pid"] for t in ran)) == 2  # both processes worked

    result = json.loads((study_dir / "result.json").read_text(encoding="utf-8"))
    assert result["verdict"] == ("PROMOTE" if code == 0 else "BLOCK")
    assert sum(t["state"] in ("COMPLETE", "PRUNED") for t in result["trials"]) == TRIALS
