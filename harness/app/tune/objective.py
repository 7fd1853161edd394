"""One trial of `medgate tune`: a gated run in its own run directory, judged on the
selection items only.

The trial's config is the study's config with the trial's values set (as `--set` would).
It runs train-and-gate up to the evaluated candidates (`confirm=False`: no confirmation,
no promotion); the base evaluation comes back from the result cache after the first trial.
Each candidate checkpoint is then judged by the policy on the selection items and the
policy's rule chooses among those that pass. The trial is feasible when one passes;
its objective values are the chosen checkpoint's metrics on the selection items (an
infeasible trial is measured on its least-failing checkpoint, so the sampler still learns
from it, and carries the number of failed checks as Optuna's constraint). The items that
confirm are never read here: they judge only the trial the study promotes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gates import judge_checkpoint, load_policy, selection_metric
from gates.policy import Policy
from gates.select import select_checkpoint
from harness.app.pipeline import run_pipeline
from harness.app.tune.space import Objective
from harness.core.config import MedgateConfig
from harness.core.rundir import BASE_TAG, RunDir, checkpoint_tag, saved_checkpoints

GATE_EARLY_STOP = "gate early stopping"


@dataclass
class TrialOutcome:
    """What a trial showed on the selection items: the study's record of it."""

    feasible: bool
    chosen: str | None  # the checkpoint the policy's rule chose (None: none passed)
    measured: str | None  # the checkpoint the values are of
    values: list[float | None]
    failing: dict[str, dict[str, str]] = field(default_factory=dict)  # tag -> check -> reason
    pruned: str | None = None  # the gate's early-stopping reason
    candidates: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def objectives_for(objectives: list[Objective], policy: Policy) -> list[Objective]:
    """The study's objectives; none given: the policy's selection metric, maximised."""
    return objectives or [Objective(policy.selection.suite, policy.selection.metric)]


def _stop_reason(run: RunDir) -> str | None:
    path = run.train_dir / "result.json"
    if not path.exists():
        return None
    reason = json.loads(path.read_text(encoding="utf-8")).get("stop_reason")
    return reason if isinstance(reason, str) and reason.startswith(GATE_EARLY_STOP) else None


def _value(run: RunDir, tag: str, policy: Policy, objective: Objective) -> float | None:
    value = selection_metric(run, tag, policy, objective.suite, objective.metric)
    if value is None or not objective.delta_vs_base:
        return value
    base = selection_metric(run, BASE_TAG, policy, objective.suite, objective.metric)
    return None if base is None else base - value


def judge_trial(config: MedgateConfig, run: RunDir, objectives: list[Objective]) -> TrialOutcome:
    """Judge a trial's evaluated candidates on the selection items (records only)."""
    policy = load_policy(config.gates.policy)
    tags = [checkpoint_tag(step) for step, _ in saved_checkpoints(run)]
    verdicts = {tag: judge_checkpoint(run, tag, policy) for tag in tags}
    chosen, _ = select_checkpoint(verdicts, policy.selection, config.gates.selection, "config")
    failing = {tag: {c.name: c.reason or "failed" for c in v.failed}
               for tag, v in verdicts.items() if v.failed}
    measured = chosen
    if measured is None and verdicts:
        # the least-failing checkpoint; on ties the latest (trained longest)
        measured = min(reversed(tags), key=lambda t: len(verdicts[t].failed))
    values = ([_value(run, measured, policy, o) for o in objectives_for(objectives, policy)]
              if measured else [None for _ in objectives_for(objectives, policy)])
    if not verdicts:
        failing = {"(no checkpoint)": {"training": "no checkpoint was saved to judge"}}
    return TrialOutcome(feasible=chosen is not None, chosen=chosen, measured=measured,
                        values=values, failing=failing, pruned=_stop_reason(run),
                        candidates=tags)


def run_trial(config: MedgateConfig, run_dir: Path, objectives: list[Objective], *,
              log: Callable[[str], None] | None = None) -> TrialOutcome:
    """Train, evaluate and judge one trial in `run_dir` (a fresh directory)."""
    run = RunDir.create(run_dir)
    policy = load_policy(config.gates.policy)
    run_pipeline(config, run, confirm=False, ranked_on=frozenset(
        o.suite for o in objectives_for(objectives, policy)))
    outcome = judge_trial(config, run, objectives)
    if log:
        log(f"{run.root.name}: {'feasible' if outcome.feasible else 'infeasible'}"
            f"{' (pruned: ' + outcome.pruned + ')' if outcome.pruned else ''}; values "
            f"{outcome.values} of {outcome.measured}")
    return outcome
