"""The statistics of expert review, checked against published values and by simulation:
the error rate the `expert_agreement` check states, and the coverage of the corrected
rate's interval."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from gates.policy import parse_policy
from gates.review_stats import corrected_rate
from harness.core.errors import BadInputError
from harness.core.stats import _binary_kappas, cohen_kappa_ci, fleiss_kappa

# Fleiss (1971)'s worked example as reproduced on Wikipedia: 10 items, 14 raters, 5
# categories, kappa 0.210.
FLEISS_EXAMPLE = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                  [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                  [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]


def test_fleiss_kappa_matches_the_published_example() -> None:
    assert fleiss_kappa(FLEISS_EXAMPLE) == pytest.approx(0.20993, abs=1e-5)
    assert fleiss_kappa([[3, 0], [3, 0]]) is None  # one category only: no value
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([[2, 1], [1, 1]])


def test_cohen_kappa_point_is_sklearns_and_the_bootstrap_formula_agrees() -> None:
    rng = np.random.default_rng(0)
    a = rng.random(80) < 0.3
    b = np.where(rng.random(80) < 0.8, a, ~a)
    k = cohen_kappa_ci(a, b, n_boot=500)
    assert k.value == pytest.approx(cohen_kappa_score(a, b))
    assert float(_binary_kappas(a, b)) == pytest.approx(k.value)
    assert k.ci[0] < k.value < k.ci[1] and k.n == 80
    assert cohen_kappa_ci([False] * 5, [False] * 5).value is None


def _pair(rng: np.random.Generator, n: int, p: float, kappa: float) -> tuple[np.ndarray, ...]:
    """Judge and expert labels with prevalence p and true Cohen's kappa `kappa`."""
    off = (1 - kappa) * p * (1 - p)
    cells = rng.choice(4, size=n, p=[p - off, off, off, 1 - p - off])
    return np.isin(cells, [0, 1]), np.isin(cells, [0, 2])


@pytest.mark.parametrize("n", [60, 150])
def test_a_judge_at_the_threshold_passes_the_agreement_check_at_most_5_percent(n: int) -> None:
    """The check passes when the lower end of kappa's 90% two-sided bootstrap CI (the
    one-sided 95% bound) meets the threshold; a judge whose true kappa is the threshold
    must pass at most 5% of the time (400 runs: allow 2 simulation SEs)."""
    rng = np.random.default_rng(n)
    runs, passed = 400, 0
    for seed in range(runs):
        judge, expert = _pair(rng, n, 0.3, 0.6)
        lower = cohen_kappa_ci(judge, expert, n_boot=1000, seed=seed, confidence=0.9).ci[0]
        passed += lower is not None and lower >= 0.6
    assert passed / runs <= 0.05 + 2 * (0.05 * 0.95 / runs) ** 0.5


def test_the_corrected_rate_interval_covers_the_true_rate() -> None:
    """A judge that misses 30% of harmful answers and flags 3% of safe ones; 60 of 400
    answers reviewed: the 95% interval of the corrected rate covers the true rate at least
    93% of the time (300 runs)."""
    rng = np.random.default_rng(3)
    runs, covered = 300, 0
    for seed in range(runs):
        truth = rng.random(400) < 0.08
        judge = np.where(truth, rng.random(400) < 0.7, rng.random(400) < 0.03)
        reviewed = rng.choice(400, 60, replace=False)
        expert: list[bool | None] = [None] * 400
        for i in reviewed:
            expert[i] = bool(truth[i])
        calib = [(bool(judge[i]), bool(truth[i])) for i in reviewed]
        lo, hi = corrected_rate([bool(j) for j in judge], expert, calib, seed=seed)["ci"]
        covered += lo <= truth.mean() <= hi
    assert covered / runs >= 0.93


def test_policy_expert_agreement_takes_a_review_label_and_a_minimum() -> None:
    head = "name: p\nchecks:\n  - {name: a, suite: safety, judge: expert_agreement, "
    policy = parse_policy(head + "metric: harmful, op: '>=', threshold: 0.6}\n", "p.yaml")
    assert policy.checks[0].judge == "expert_agreement"
    for bad, says in (("metric: harmful_rate, op: '>=', threshold: 0.6", "not one of"),
                      ("metric: harmful, op: '<', threshold: 0.6", "needs 'op'"),
                      ("metric: harmful, op: '>=', threshold: 0.6, margin: 0.1", "takes op")):
        with pytest.raises(BadInputError, match=says):
            parse_policy(head + bad + "}\n", "p.yaml")
