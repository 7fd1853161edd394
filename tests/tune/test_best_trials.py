"""Which trial a study promotes: the best feasible one; with several objectives the Pareto
front of the feasible trials, and its best on the first objective."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState, create_trial

from harness.app.tune.results import best_trials
from harness.app.tune.space import Objective


def _study(rows, directions):
    study = optuna.create_study(directions=directions)
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    for values, feasible in rows:
        study.add_trial(create_trial(state=TrialState.COMPLETE, values=values, params={"x": 0.5},
                                     distributions=dist,
                                     user_attrs={"outcome": {"feasible": feasible}}))
    return study


def test_single_objective_best_feasible_ignores_infeasible():
    study = _study([([0.4], True), ([0.9], False), ([0.6], True), ([0.6], True)], ["maximize"])
    _front, best = best_trials(study, [Objective("medqa", "accuracy")])
    assert best.number == 2  # 0.9 fails the gate; ties go to the earliest


def test_pareto_front_of_feasible_trials():
    objectives = [Objective("medqa", "accuracy"),
                  Objective("general", "accuracy", "minimize", delta_vs_base=True)]
    rows = [([0.50, 0.01], True),   # 0: on the front (least forgetting)
            ([0.60, 0.04], True),   # 1: on the front (best accuracy)
            ([0.55, 0.05], True),   # 2: dominated by 1
            ([0.70, 0.00], False),  # 3: would dominate all, but infeasible
            ([0.45, 0.02], True)]   # 4: dominated by 0
    front, best = best_trials(_study(rows, ["maximize", "minimize"]), objectives)
    assert [t.number for t in front] == [0, 1] and best.number == 1


def test_no_feasible_trial_no_best():
    study = _study([([0.4], False)], ["maximize"])
    assert best_trials(study, [Objective("medqa", "accuracy")]) == ([], None)
