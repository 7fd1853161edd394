"""A paired check settled for futility on a candidate whose scoring stopped early, read
from records on disk as the scoring loop and `medgate gate` read them."""

from __future__ import annotations

import numpy as np
from conftest import _summarise, base_pattern, no_split, paired_records, write_model

from gates.checks import evaluate_check
from gates.evidence import ModelEvidence
from gates.policy import load_policy
from gates.sequential import INFO_KEY, item_order_key, suite_settlements
from harness.core.records import write_records
from harness.core.rundir import RunDir
from harness.core.summaries import write_suite_summary

SUITE, N, SEED = "pubmedqa", 160, 0


def _candidate(run: RunDir, scored: int, *, worse: bool) -> None:
    """The candidate's first `scored` items in the scoring order: wrong wherever the base
    is right (`worse`), or the base's own answers."""
    base = base_pattern(SUITE, N)
    correct = np.zeros(N, dtype=bool) if worse else base.copy()
    records = paired_records(SUITE, correct)
    order = sorted(records, key=lambda r: item_order_key(SEED, r.item_id))
    kept = order[:scored]
    summary = _summarise(SUITE, kept, "cpu")
    summary.info.__pydantic_extra__[INFO_KEY] = {
        "planned_ids": [r.item_id for r in records], "planned": {"all": N},
        "scored": {"all": scored}, "part": "all", "order_seed": SEED,
        "blocks": {"all": [scored]}, "stopped_by": {},
        "complete": True}
    eval_dir = run.eval_dir("checkpoint-10")
    eval_dir.mkdir(parents=True, exist_ok=True)
    write_records(eval_dir / f"{SUITE}.records.jsonl", kept)
    write_suite_summary(eval_dir, SUITE, summary)


def _setup(tmp_path, scored: int, worse: bool):
    run = RunDir.create(tmp_path / "run")
    write_model(run, "base")
    _candidate(run, scored, worse=worse)
    policy = no_split(load_policy("default"))
    check = next(c for c in policy.checks if c.suite == SUITE)
    model = ModelEvidence(run.eval_dir("checkpoint-10"), "checkpoint-10", "cpu")
    base = ModelEvidence(run.eval_dir("base"), "base", "cpu")
    return policy, check, model, base


def test_a_clearly_worse_candidate_is_settled_for_futility_and_the_gate_agrees(tmp_path):
    policy, check, model, base = _setup(tmp_path, scored=32, worse=True)
    needs, settled = suite_settlements(policy, SUITE, model, confidence=0.95, device="cpu",
                                       base=base)
    assert not needs
    assert settled[check.name].outcome == "fail" and settled[check.name].rule == "futility"
    assert "32 of 160 planned paired items" in settled[check.name].reason
    # the base model's own scoring has no base to pair with: it needs every item
    needs_alone, _ = suite_settlements(policy, SUITE, model, confidence=0.95, device="cpu")
    assert needs_alone

    result = evaluate_check(check, policy, model, base)
    assert result.outcome == "fail" and not result.passed
    assert result.sequential == {"scored": 32, "planned": 160, "rule": "futility"}
    assert "betting test" in result.reason and "sequential evaluation" in result.reason


def test_a_candidate_like_its_base_is_not_settled_and_a_stopped_suite_fails_closed(tmp_path):
    policy, check, model, base = _setup(tmp_path, scored=32, worse=False)
    needs, settled = suite_settlements(policy, SUITE, model, confidence=0.95, device="cpu",
                                       base=base)
    assert needs and settled[check.name] is None
    result = evaluate_check(check, policy, model, base)
    assert result.outcome == "insufficient" and not result.passed
    assert "not settled" in result.reason
