"""`medgate tune`: hyperparameter search on Optuna with the gate as its constraint."""

from harness.app.tune.objective import TrialOutcome, judge_trial, run_trial
from harness.app.tune.space import Objective, Param, SearchSpace, parse_space, read_space
from harness.app.tune.study import Study, StudyOutcome

__all__ = ["Objective", "Param", "SearchSpace", "Study", "StudyOutcome", "TrialOutcome",
           "judge_trial", "parse_space", "read_space", "run_trial"]
