"""Two worker processes share one study in a real PostgreSQL server: between them they run
exactly N trials, and no trial runs twice."""

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


def test_two_workers_share_a_postgres_study(tmp_path, tiny_model_dir, study_files,
                                            postgres_url):
    policy, space = study_files
    study_dir = tmp_path / "study"
    env = environment(tmp_path / "cache")
    workers = [start(tune_command(tiny_model_dir, policy, space, study_dir, TRIALS,
                                  "--storage", postgres_url, "--study-name", "shared"),
                     env, tmp_path / f"worker-{i}.log") for i in range(2)]
    codes = [w.wait(timeout=900) for w in workers]
    logs = [(tmp_path / f"worker-{i}.log").read_text(encoding="utf-8") for i in range(2)]
    assert all(code in (0, 1) for code in codes), (codes, logs)

    study = optuna.load_study(study_name="shared", storage=postgres_url)
    trials = study.get_trials()
    ran = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
           or "error" in t.user_attrs]
    assert len(ran) == TRIALS, [(t.number, t.state, t.user_attrs) for t in trials]
    # anything else is a trial a worker drew after N were taken, and never ran
    assert all("surplus" in t.user_attrs for t in trials if t not in ran)
    assert not [t for t in trials if t.state == TrialState.RUNNING]

    # no trial ran twice: one run directory per trial, trained once
    run_dirs = [t.user_attrs["run_dir"] for t in ran]
    assert len(set(run_dirs)) == TRIALS
    for run_dir in run_dirs:
        log = (Path(run_dir) / "train" / "train.log").read_text(encoding="utf-8")
        starts = [line for line in log.splitlines() if " start model=" in line]
        assert len(starts) == 1, run_dir
    assert sorted(p.name for p in (study_dir / "trials").iterdir()) == sorted(
        f"trial-{t.number:04d}" for t in ran)
    # the workers drew different values (their samplers are not seeded alike)
    assert len({tuple(sorted(t.params.items())) for t in ran}) == TRIALS
    # both processes took trials from the shared study
    by_pid = Counter(t.user_attrs["pid"] for t in ran)
    assert len(by_pid) == 2, by_pid

    # the study finished once: its result lists the N trials and its verdict
    result = json.loads((study_dir / "result.json").read_text(encoding="utf-8"))
    assert result["verdict"] in ("PROMOTE", "BLOCK")
    assert "***" in result["storage"] or "@" in result["storage"]
    assert sum(1 for t in result["trials"] if t["state"] in ("COMPLETE", "PRUNED")) <= TRIALS
