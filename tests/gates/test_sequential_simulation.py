"""The sequential gate's error rates, by simulation (gates.sequential).

Each simulated run draws a suite's items one by one from a true rate, looks after every
block (8, 8, 16, 32, ... as harness.app.sequential scores them) and stops when the check
is settled; the exhaustive outcome of the same run is the gate's fixed-n rule on all the
planned items. What the sequential gate states, and what is checked here:

- it never promotes where the exhaustive gate on the same items would not (a check stops
  early to pass only by curtailment), so its false-promote rate is the exhaustive gate's,
  itself at most 1 - confidence at the threshold;
- curtailment is exact: every run it settles ends with the exhaustive outcome;
- futility stops a check whose true rate meets the threshold at most 1 - confidence of the
  time, however many looks (the anytime-valid confidence sequence).
"""

from __future__ import annotations

import numpy as np
import pytest

from gates.checks import Decision
from gates.policy import Check
from gates.sequential import settle_rate
from harness.app.sequential import block_sizes
from harness.core.stats import upper_bound

RUNS = 2000
CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
# Monte Carlo error of a rate estimated from RUNS runs: three standard errors at ALPHA.
TOLERANCE = 3 * (ALPHA * (1 - ALPHA) / RUNS) ** 0.5


def _exhaustive(check: Check, events: int, planned: int, min_n: int) -> str:
    """The fixed-n gate's outcome on every planned item (gates.checks' rule for a rate
    judged on its exact bound, or a share on its exact lower bound)."""
    if planned < min_n:
        return "insufficient"
    value = events / planned
    if check.judge == "ci_upper":
        compared = upper_bound(events, planned, CONFIDENCE)
    else:
        compared = 1 - upper_bound(planned - events, planned, CONFIDENCE)
    return Decision(compared, check.op, check.threshold, value).outcome


def _sequential(check: Check, draws: np.ndarray, min_n: int) -> tuple[str | None, str | None, int]:
    """(settled outcome or None, rule, items scored) for one simulated run."""
    planned, scored = len(draws), 0
    for size in block_sizes(planned):
        scored += size
        if scored >= planned:
            break
        settled = settle_rate(check, int(draws[:scored].sum()), scored, planned, min_n=min_n,
                              confidence=CONFIDENCE)
        if settled is not None:
            return settled.outcome, settled.rule, scored
    return None, None, planned


def _simulate(check: Check, true_rate: float, planned: int, min_n: int, seed: int):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(RUNS):
        draws = rng.random(planned) < true_rate
        outcome, rule, scored = _sequential(check, draws, min_n)
        rows.append((outcome, rule, scored, _exhaustive(check, int(draws.sum()), planned, min_n)))
    return rows


HARMFUL = Check(name="harmful", suite="safety", metric="harmful_rate", judge="ci_upper",
                op="<", threshold=0.05)
CONSISTENT = Check(name="consistency", suite="robust", metric="consistency", judge="ci_lower",
                   op=">=", threshold=0.9)


@pytest.mark.parametrize("check,true_rate,planned", [
    (HARMFUL, 0.05, 400),      # on the threshold: must not pass more than 5%
    (HARMFUL, 0.08, 400),      # worse than it
    (CONSISTENT, 0.9, 300),    # (a share: events are the consistent items)
    (CONSISTENT, 0.85, 300),
])
def test_sequential_never_promotes_where_exhaustive_would_not(check, true_rate, planned):
    rows = _simulate(check, true_rate, planned, min_n=10, seed=7)
    seq_pass = [outcome == "pass" if outcome is not None else full == "pass"
                for outcome, _, _, full in rows]
    full_pass = [full == "pass" for *_, full in rows]
    assert all(f for s, f in zip(seq_pass, full_pass, strict=True) if s)
    assert np.mean(seq_pass) <= ALPHA + TOLERANCE  # false promote at or beyond the threshold


@pytest.mark.parametrize("check,true_rate,planned", [
    (HARMFUL, 0.0, 400), (HARMFUL, 0.02, 400), (HARMFUL, 0.3, 400),
    (CONSISTENT, 0.99, 300), (CONSISTENT, 0.7, 300),
])
def test_curtailment_ends_with_the_exhaustive_outcome(check, true_rate, planned):
    rows = _simulate(check, true_rate, planned, min_n=10, seed=11)
    curtailed = [(outcome, full) for outcome, rule, _, full in rows if rule == "curtailment"]
    assert all(outcome == full for outcome, full in curtailed)


@pytest.mark.parametrize("check,true_rate,planned", [
    (HARMFUL, 0.05, 1000),     # the threshold itself: the hardest true rate that meets it
    (HARMFUL, 0.03, 1000),
    (CONSISTENT, 0.9, 1000),
])
def test_futility_stops_a_model_that_meets_the_threshold_rarely(check, true_rate, planned):
    rows = _simulate(check, true_rate, planned, min_n=10, seed=13)
    futile = np.mean([rule == "futility" for _, rule, _, _ in rows])
    assert futile <= ALPHA + TOLERANCE


def test_a_clearly_failing_model_stops_early():
    rows = _simulate(HARMFUL, 0.5, 400, min_n=10, seed=17)
    scored = [n for outcome, _, n, _ in rows if outcome == "fail"]
    assert len(scored) == RUNS  # every run settled, as fail
    assert max(scored) <= 32
    rows = _simulate(HARMFUL, 0.15, 1000, min_n=10, seed=19)
    assert np.mean([rule == "futility" for _, rule, _, _ in rows]) > 0.9  # not by curtailment
    assert np.median([n for *_, n, _ in rows]) < 1000 / 4
