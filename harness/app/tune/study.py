"""`medgate tune`: an Optuna study whose constraint is the gate.

Each trial is a gated run (harness.app.tune.objective) judged on the selection items; a
trial whose chosen checkpoint fails the gate is infeasible (Optuna's constraints: the
number of failed checks, 0 when feasible), and a trial the gate's early stopping ended is
pruned. When the study has its N finished trials, the best feasible trial (for several
objectives: the Pareto front's best on the first objective) is resumed as an ordinary
train-and-gate run with the full confirmation gate, which promotes it or BLOCKs. No
feasible trial: the study BLOCKs, with each trial's failing checks as the reasons.

N counts trials that ran: complete, pruned, failed with an error, and those running now.
A trial killed with its process does not count: its parameters are queued again. Workers
(processes here, or machines sharing a database) each take the next trial from the
storage, so no trial runs twice; a worker that finds N already taken marks the trial it
drew as surplus (never run) and stops.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gates import load_policy
from harness.app.pipeline import run_pipeline
from harness.app.tracking import log_run
from harness.app.tune.objective import TrialOutcome, objectives_for, run_trial
from harness.app.tune.space import SearchSpace
from harness.app.tune.storage import (
    embedded_url,
    fail_orphaned_trials,
    open_storage,
    shown_url,
)
from harness.core.atomic import write_json
from harness.core.config import MedgateConfig
from harness.core.console import err
from harness.core.errors import BadInputError
from harness.core.lock import RunLock
from harness.core.rundir import RunDir

ConfigFor = Callable[[list[str]], MedgateConfig]
RESULT_NAME = "result.json"
PROMOTION_WAIT_S = 3600.0


@dataclass
class StudyOutcome:
    verdict: str  # PROMOTE, BLOCK, or RUNNING (other workers still have trials)
    best_trial: int | None = None
    promoted_run: str | None = None
    reasons: list[str] = field(default_factory=list)
    result_path: Path | None = None


def _counts(trial: Any) -> bool:
    """Whether a trial counts toward N: it ran, or is running (not killed, not surplus)."""
    from optuna.trial import TrialState

    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING):
        return True
    return trial.state == TrialState.FAIL and "error" in trial.user_attrs


def counted(study: Any) -> list[Any]:
    return [t for t in study.get_trials(deepcopy=False) if _counts(t)]


def _finished(study: Any) -> int:
    from optuna.trial import TrialState

    return sum(1 for t in counted(study) if t.state != TrialState.RUNNING)


def _sampler(space: SearchSpace, offset: int = 0) -> Any:
    """The space's sampler; its seed moved by `offset` so that a study started again, or
    a second worker, does not replay the draws of the first (TPE's first trials are
    random draws from the seed: the same seed would run the finished trials' values again)."""
    import optuna

    seed = None if space.seed is None else space.seed + offset
    if space.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    # TPE reads each trial's constraint (Trial.set_constraint) and prefers feasible trials.
    return optuna.samplers.TPESampler(seed=seed)


@dataclass
class Study:
    """A study folder, its storage and the settings every worker shares."""

    space: SearchSpace
    config_for: ConfigFor
    study_dir: Path
    n_trials: int
    storage_url: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        self.study_dir = Path(self.study_dir)
        self.url = self.storage_url or embedded_url(self.study_dir)
        self.embedded = self.storage_url is None
        self.study_name = self.name or self.study_dir.resolve().name
        base = self.config_for([])
        self.policy = load_policy(base.gates.policy)
        self.objectives = objectives_for(self.space.objectives, self.policy)
        self._check_keys()

    def _check_keys(self) -> None:
        """Every searched key is a config key that takes the space's values."""
        for param in self.space.params:
            for value in param.examples():
                try:
                    self.config_for([param.override(value)])
                except BadInputError as exc:
                    raise BadInputError(f"{self.space.source}: {param.key} = {value!r} is not a "
                                        f"valid setting: {exc}") from None

    def trials_dir(self) -> Path:
        return self.study_dir / "trials"

    def open(self) -> Any:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study_dir.mkdir(parents=True, exist_ok=True)
        storage = open_storage(self.url)
        try:
            study = optuna.create_study(study_name=self.study_name, storage=storage,
                                        directions=[o.direction for o in self.objectives],
                                        sampler=_sampler(self.space), load_if_exists=True)
        except ValueError as exc:
            raise BadInputError(f"study '{self.study_name}' in {shown_url(self.url)}: {exc}") from exc
        recorded = study.user_attrs.get("space")
        described = self.space.describe() | {"objectives": [
            {"name": o.name, "direction": o.direction} for o in self.objectives]}
        described.pop("source", None)
        if recorded is None:
            study.set_user_attr("space", described)
        elif recorded != described:
            raise BadInputError(f"study '{self.study_name}' in {shown_url(self.url)} was started "
                                f"with another search space or objectives ({recorded}); use a "
                                "new --study-dir or study name for this one")
        return study

    # --- one worker ------------------------------------------------------------------

    def _objective(self, study: Any) -> Callable[[Any], Any]:
        import optuna

        def objective(trial: Any) -> Any:
            nan = [math.nan] * len(self.objectives)
            before = [t for t in counted(study) if t.number < trial.number]
            if len(before) >= self.n_trials:
                trial.set_user_attr("surplus", f"the study already had {self.n_trials} trials")
                study.stop()
                return nan if len(nan) > 1 else nan[0]
            params = {p.key: p.suggest(trial) for p in self.space.params}
            run_dir = self.trials_dir() / f"trial-{trial.number:04d}"
            trial.set_user_attr("run_dir", str(run_dir.resolve()))
            trial.set_user_attr("host", socket.gethostname())
            trial.set_user_attr("pid", os.getpid())
            shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in params.items())
            err.rule(f"[bold]trial {trial.number}[/]: {shown}")
            config = self.config_for([p.override(params[p.key]) for p in self.space.params])
            start = time.perf_counter()
            try:
                with RunLock(run_dir):
                    outcome = run_trial(config, run_dir, self.objectives, log=err.print)
            except BadInputError:
                raise  # the study's own input is wrong: every trial would fail alike
            except Exception as exc:  # noqa: BLE001 - a crashed trial is recorded and counted
                trial.set_user_attr("error", f"{type(exc).__name__}: {str(exc)[:500]}")
                trial.set_user_attr("duration_s", round(time.perf_counter() - start, 1))
                err.print(f"[red]trial {trial.number} failed:[/] {type(exc).__name__}: {exc}",
                          highlight=False)
                return nan if len(nan) > 1 else nan[0]
            trial.set_user_attr("duration_s", round(time.perf_counter() - start, 1))
            self._record(trial, outcome)
            if outcome.pruned:
                raise optuna.TrialPruned(outcome.pruned)
            if any(v is None for v in outcome.values):
                missing = [o.name for o, v in zip(self.objectives, outcome.values) if v is None]
                trial.set_user_attr("error", f"objective {', '.join(missing)} not measured on "
                                             f"{outcome.measured or 'any checkpoint'}")
                return nan if len(nan) > 1 else nan[0]
            values = [float(v) for v in outcome.values]
            return values if len(values) > 1 else values[0]

        return objective

    def _record(self, trial: Any, outcome: TrialOutcome) -> None:
        """The trial's outcome and its constraint (failed checks; <= 0 is feasible)."""
        failed = len(outcome.failing.get(outcome.measured or "", {}))
        trial.set_user_attr("outcome", outcome.to_json())
        value = 0.0 if outcome.feasible else float(max(1, failed))
        trial.set_constraint("failed_checks", value)
        trial.set_user_attr("constraint", [value])

    def work(self, *, worker: bool = False) -> None:
        """Run trials until the study has N (`worker`: one of several processes)."""
        from optuna.trial import FrozenTrial

        study = self.open()
        if len(counted(study)) >= self.n_trials:
            return
        # One process on its own study: reproducible from the seed and the trials so far.
        # Workers sharing a study also differ by process, or all would draw alike.
        existing = len(study.get_trials(deepcopy=False))
        offset = existing if self.embedded and not worker else existing + 7919 * os.getpid()
        study.sampler = _sampler(self.space, offset)

        def enough(study: Any, _trial: FrozenTrial) -> None:
            if len(counted(study)) >= self.n_trials:
                study.stop()

        study.optimize(self._objective(study), n_trials=None, callbacks=[enough],
                       catch=(), gc_after_trial=True)

    # --- the whole study -------------------------------------------------------------

    def run(self, *, workers: int = 1, worker_argv: list[str] | None = None,
            worker: bool = False) -> StudyOutcome:
        """Run (or continue) the study; `worker`: only take trials (started by another
        `medgate tune`, which finishes the study)."""
        if worker:
            self.work(worker=True)
            return StudyOutcome("RUNNING")
        lock = RunLock(self.study_dir) if self.embedded else None
        if lock:
            lock.acquire()
        try:
            if self.embedded:
                orphaned = fail_orphaned_trials(self.open())
                if orphaned:
                    err.print(f"trials {orphaned} were cut short by the end of their process; "
                              "their parameters are queued again", highlight=False)
            children = [self._spawn(worker_argv or []) for _ in range(max(0, workers - 1))]
            try:
                self.work(worker=bool(children))
            finally:
                codes = [child.wait() for child in children]
            if any(codes):
                err.print(f"[yellow]worker exit codes: {codes}[/]", highlight=False)
            return self.finish()
        finally:
            if lock:
                lock.release()

    def _spawn(self, argv: list[str]) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "harness.app.cli", *argv, "--worker"],
                                env={**os.environ})

    def finish(self) -> StudyOutcome:
        """Promote the best feasible trial with the full confirmation gate, or BLOCK."""
        from harness.app.tune.results import best_trials, study_record

        study = self.open()
        from optuna.trial import TrialState

        running = [t.number for t in counted(study) if t.state == TrialState.RUNNING]
        if running or _finished(study) < self.n_trials:
            err.print(f"trials {running} are still running on other workers; the last to "
                      "finish promotes the study's best trial", highlight=False)
            return StudyOutcome("RUNNING")
        front, best = best_trials(study, self.objectives)
        outcome = StudyOutcome("BLOCK", best_trial=best.number if best else None)
        if best is None:
            outcome.reasons = _infeasible_reasons(study)
        else:
            outcome = self._promote(best, outcome)
        record = study_record(study, self, front, outcome)
        outcome.result_path = write_json(self.study_dir / RESULT_NAME, record)
        from reports.study import render_study

        render_study(self.study_dir / RESULT_NAME, self.study_dir / "report" / "study.html")
        return outcome

    def _promote(self, best: Any, outcome: StudyOutcome) -> StudyOutcome:
        run_dir = Path(best.user_attrs.get("run_dir", ""))
        if not (run_dir / "config.resolved.yaml").exists():
            outcome.reasons = [(f"trial {best.number} is the best feasible trial but its run "
                                f"directory {run_dir} is not on this machine "
                                f"({best.user_attrs.get('host')}): run the same `medgate tune` "
                                "there to confirm and promote it")]
            return outcome
        config = self.config_for([p.override(best.params[p.key]) for p in self.space.params
                                  if p.key in best.params])
        err.rule(f"[bold]confirm trial {best.number}[/] (the full gate, held-out items)")
        with RunLock(run_dir, timeout=PROMOTION_WAIT_S):
            result = run_pipeline(config, RunDir(run_dir), resume=True, confirm=True,
                                  ranked_on=frozenset(o.suite for o in self.objectives))
        log_run(config, RunDir(run_dir))  # MLflow, when tracking.enabled
        outcome.verdict = result.verdict
        outcome.promoted_run = str(run_dir) if result.verdict == "PROMOTE" else None
        if result.verdict == "PROMOTE":
            outcome.reasons = [(f"trial {best.number} ({result.selected}) passes the full "
                                "gate on the held-out confirmation items")]
        else:
            outcome.reasons = [(f"trial {best.number} was the best feasible trial on the "
                                "selection items but the confirmation gate BLOCKs it:"),
                               *result.reasons]
        return outcome


def _infeasible_reasons(study: Any) -> list[str]:
    reasons = ["no feasible trial: every trial's checkpoints fail the gate"]
    for trial in counted(study):
        attrs = trial.user_attrs
        params = ", ".join(f"{k}={v}" for k, v in trial.params.items())
        if "error" in attrs:
            reasons.append(f"trial {trial.number} ({params}): error: {attrs['error']}")
            continue
        result = attrs.get("outcome") or {}
        tag = result.get("measured")
        failing = (result.get("failing") or {}).get(tag) or {}
        pruned = f" (pruned: {result['pruned']})" if result.get("pruned") else ""
        reasons.append(f"trial {trial.number} ({params}){pruned}: {tag}: " + "; ".join(
            f"{name}: {why}" for name, why in failing.items()))
    return reasons

