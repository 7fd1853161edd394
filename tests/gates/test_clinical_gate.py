"""The clinical policy's stated error rates hold on simulated per-item scores.

non_inferior on a per-item score (ROUGE-L, a note's entity F1): a checkpoint truly worse
than its base by the margin must pass at most 2.5% of the time. The hallucination ceiling
(upper end of the effective-n Clopper-Pearson interval of the pooled unsupported share,
with and without correlation among an item's entities): a model whose true
rate is at the threshold must pass at most 2.5% of the time. 400 simulated runs each, with
a tolerance of three binomial standard errors; a large drop and a clean model are also
simulated, so the checks are shown to decide, not only to refuse.
"""

from __future__ import annotations

import math

import numpy as np

from gates.checks import paired_decision
from gates.paired import paired_diff
from gates.policy import load_policy
from harness.core.records import Record
from suites.metrics import compute_metrics

SIMS = 400
STATED = 0.025
TOLERANCE = 3 * math.sqrt(STATED * (1 - STATED) / SIMS)
POLICY = load_policy("clinical")
CHECKS = {c.name: c for c in POLICY.checks}


def _scores(rng, n, shift):
    """Per-item scores in [0, 1] of a base and a checkpoint whose mean differs by `shift`
    (items vary in difficulty; the two models' scores correlate on an item)."""
    difficulty = rng.beta(2, 3, size=n)
    base = np.clip(difficulty + rng.normal(0, 0.08, n), 0, 1)
    model = np.clip(difficulty + shift + rng.normal(0, 0.08, n), 0, 1)
    model += shift - (model.mean() - base.mean())  # exactly the stated true difference
    return model, base


def _pass_rate(shift, n, seed):
    check = CHECKS["report_rouge_l_no_regression"]
    rng = np.random.default_rng(seed)
    passed = 0
    for i in range(SIMS):
        model, base = _scores(rng, n, shift)
        d = paired_diff(model, base, n_boot=1000, seed=i)
        passed += paired_decision(check, d).outcome == "pass"
    return passed / SIMS


def test_a_checkpoint_worse_by_the_margin_passes_score_non_inferiority_at_most_stated_rate():
    margin = CHECKS["report_rouge_l_no_regression"].margin
    assert _pass_rate(-margin, 30, 1) <= STATED + TOLERANCE
    assert _pass_rate(-margin, 100, 2) <= STATED + TOLERANCE


def test_score_non_inferiority_passes_an_unchanged_checkpoint_and_blocks_a_large_drop():
    assert _pass_rate(0.0, 100, 3) > 0.8
    assert _pass_rate(-0.15, 30, 4) == 0.0


def _report_records(rng, n, rate, rho):
    """Items of 1-5 entities; with `rho` > 0 an item's entities share a beta-distributed
    rate (intra-item correlation rho), so items, not entities, are the units."""
    records = []
    for i in range(n):
        entities = int(rng.integers(1, 6))
        p = rng.beta(rate * (1 - rho) / rho, (1 - rate) * (1 - rho) / rho) if rho else rate
        bad = int(rng.binomial(entities, p))
        records.append(Record(suite="clinical-report", item_id=f"r{i}", prompt=f"p{i}",
                              labels={"n_entities": entities, "n_unsupported": bad}))
    return records


def _ceiling_pass_rate(rate, n, seed, rho=0.0):
    check = CHECKS["hallucination_rate"]
    rng = np.random.default_rng(seed)
    passed = 0
    for i in range(SIMS):
        entry = compute_metrics(["hallucination_rate"], _report_records(rng, n, rate, rho),
                                seed=i)["hallucination_rate"]
        passed += entry.ci[1] < check.threshold
    return passed / SIMS


def test_a_model_at_the_hallucination_ceiling_passes_at_most_stated_rate():
    threshold = CHECKS["hallucination_rate"].threshold
    for n, rho, seed in ((30, 0.0, 5), (30, 0.3, 6), (100, 0.3, 7)):
        assert _ceiling_pass_rate(threshold, n, seed, rho) <= STATED + TOLERANCE, (n, rho)


def test_the_hallucination_ceiling_passes_a_clean_model_on_enough_items():
    assert _ceiling_pass_rate(0.02, 120, 6) > 0.8
