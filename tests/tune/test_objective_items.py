"""A trial's objective and feasibility come from the selection items alone: what the
confirmation items say changes neither; they decide only the promoted trial's verdict."""

from __future__ import annotations

import numpy as np

from gates import judge_run, load_policy
from gates.split import confirms
from harness.app.tune.objective import judge_trial
from harness.app.tune.space import Objective
from harness.core.config import load_config
from harness.core.records import Record, write_records
from harness.core.rundir import CHECKPOINT_COMPLETE_MARKER, RunDir
from harness.core.summaries import SuiteInfo, SuiteSummary, write_suite_summary
from suites.metrics import compute_metrics
from suites.registry import get_spec

N = 200


def _write(run: RunDir, tag: str, correct: dict[str, np.ndarray]) -> None:
    folder = run.eval_dir(tag)
    folder.mkdir(parents=True, exist_ok=True)
    for suite, flags in correct.items():
        records = [Record(suite=suite, item_id=f"{suite}-{i}", prompt=f"{suite} q{i}", gold="A",
                          pred="A" if c else "B", correct=bool(c), demo=True)
                   for i, c in enumerate(flags)]
        write_records(folder / f"{suite}.records.jsonl", records)
        metrics = compute_metrics(get_spec(suite).metrics, records,
                                  options=dict(get_spec(suite).options), seed=0)
        write_suite_summary(folder, suite, SuiteSummary(metrics=metrics, info=SuiteInfo(
            demo=True, device="cpu", n_items=len(records))))


def _run(tmp_path, name: str, confirmation_correct: bool) -> RunDir:
    """Base right on a fixed 60% of items; the checkpoint equal to it on the selection
    items, and right (or wrong) on every confirmation item."""
    run = RunDir.create(tmp_path / name)
    rng = np.random.default_rng(7)
    base = {s: rng.random(N) < 0.6 for s in ("medqa", "general")}
    _write(run, "base", base)
    checkpoint = {}
    for suite, flags in base.items():
        held = np.array([confirms(f"{suite}-{i}", 0.5) for i in range(N)])
        checkpoint[suite] = np.where(held, confirmation_correct, flags)
    _write(run, "checkpoint-2", checkpoint)
    folder = run.checkpoints_dir / "checkpoint-2"
    folder.mkdir(parents=True)
    (folder / CHECKPOINT_COMPLETE_MARKER).write_text("{}")
    return run


def test_objective_ignores_the_confirmation_items(tmp_path, study_files):
    policy_path, _ = study_files
    config = load_config(None, [f"gates.policy={policy_path}",
                                "evaluation.suites=[medqa,general]"])
    objectives = [Objective("medqa", "accuracy"),
                  Objective("general", "accuracy", "minimize", delta_vs_base=True)]
    good = _run(tmp_path, "good", True)
    bad = _run(tmp_path, "bad", False)
    a, b = judge_trial(config, good, objectives), judge_trial(config, bad, objectives)
    assert a.feasible and b.feasible and a.chosen == b.chosen == "checkpoint-2"
    assert a.values == b.values
    assert a.values[1] == 0.0  # no forgetting on the selection items

    held = [i for i in range(N) if not confirms(f"medqa-{i}", 0.5)]
    rng = np.random.default_rng(7)
    medqa = rng.random(N) < 0.6
    assert a.values[0] == np.mean(medqa[held])

    # the confirmation gate, run for the promoted trial only, does read them
    policy = load_policy(str(policy_path))
    assert judge_run(good, policy).verdict == "PROMOTE"
    assert judge_run(bad, policy).verdict == "BLOCK"
