"""The study's result: its best feasible trial(s) and the record the study report reads.

`result.json` holds every trial (parameters, objective values, feasibility, the failing
checks, pruning and errors), the Pareto front, Optuna's parameter importances and the
study's verdict, read from the study's storage; the report renders it without Optuna.
"""

from __future__ import annotations

import time
from typing import Any

from harness.app.tune.space import Objective
from harness.app.tune.storage import shown_url


def _feasible(trial: Any) -> bool:
    from optuna.trial import TrialState

    return (trial.state == TrialState.COMPLETE
            and bool((trial.user_attrs.get("outcome") or {}).get("feasible")))


def _dominates(a: list[float], b: list[float], signs: list[int]) -> bool:
    better_or_equal = all(s * x >= s * y for x, y, s in zip(a, b, signs))
    return better_or_equal and any(s * x > s * y for x, y, s in zip(a, b, signs))


def best_trials(study: Any, objectives: list[Objective]) -> tuple[list[Any], Any | None]:
    """The Pareto front of the feasible trials, and the one to promote: with one
    objective the best value; with several, the front's best on the first objective
    (the order in the space file says which matters most). Ties: the earliest trial."""
    signs = [1 if o.direction == "maximize" else -1 for o in objectives]
    feasible = [t for t in study.get_trials(deepcopy=False) if _feasible(t)]
    front = [t for t in feasible
             if not any(_dominates(o.values, t.values, signs) for o in feasible if o is not t)]
    if not front:
        return [], None
    best = max(front, key=lambda t: (signs[0] * t.values[0], -t.number))
    return sorted(front, key=lambda t: t.number), best


def _importances(study: Any, objectives: list[Objective]) -> dict[str, Any]:
    """Optuna's parameter importances per objective (fANOVA on the completed trials),
    or why they could not be computed."""
    import optuna
    from optuna.trial import TrialState

    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    out: dict[str, Any] = {}
    for index, objective in enumerate(objectives):
        if len(complete) < 2:
            out[objective.name] = {"error": f"{len(complete)} completed trial(s): importances "
                                            "need at least 2"}
            continue
        try:
            out[objective.name] = {k: float(v) for k, v in optuna.importance.get_param_importances(
                study, target=lambda t, i=index: t.values[i]).items()}
        except (RuntimeError, ValueError) as exc:
            out[objective.name] = {"error": str(exc)}
    return out


def trial_record(trial: Any) -> dict[str, Any]:
    attrs = trial.user_attrs
    outcome = attrs.get("outcome") or {}
    return {
        "number": trial.number, "state": trial.state.name, "params": trial.params,
        "values": trial.values, "feasible": _feasible(trial),
        "constraint": attrs.get("constraint"), "chosen": outcome.get("chosen"),
        "measured": outcome.get("measured"), "failing": outcome.get("failing") or {},
        "pruned": outcome.get("pruned"), "error": attrs.get("error"),
        "interrupted": attrs.get("interrupted"), "surplus": attrs.get("surplus"),
        "retry_of": attrs.get("retry_of"), "run_dir": attrs.get("run_dir"),
        "host": attrs.get("host"), "pid": attrs.get("pid"),
        "duration_s": attrs.get("duration_s"),
        "started": trial.datetime_start.isoformat() if trial.datetime_start else None,
        "finished": trial.datetime_complete.isoformat() if trial.datetime_complete else None,
    }


def study_record(study: Any, settings: Any, front: list[Any], outcome: Any) -> dict[str, Any]:
    """Everything the study report shows, as plain data."""
    objectives = settings.objectives
    return {
        "study": study.study_name, "storage": shown_url(settings.url),
        "embedded_storage": settings.embedded, "n_trials": settings.n_trials,
        "space": settings.space.describe(),
        "objectives": [{"name": o.name, "direction": o.direction} for o in objectives],
        "policy": settings.policy.describe(),
        "selection_items_only": True,
        "training_demo": settings.config_for([]).dataset.name == "demo",
        "verdict": outcome.verdict, "best_trial": outcome.best_trial,
        "promoted_run": outcome.promoted_run, "reasons": outcome.reasons,
        "pareto_front": [t.number for t in front],
        "importances": _importances(study, objectives),
        "trials": [trial_record(t) for t in study.get_trials(deepcopy=False)],
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
