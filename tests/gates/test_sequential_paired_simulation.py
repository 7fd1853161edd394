"""The sequential gate's paired futility rule, by simulation (gates.sequential).

Each simulated run draws a candidate's and its base's correctness on planned items (a
share of items only the candidate gets right, a share only the base gets right), scores
them in blocks (8, 8, 16, 32, ... as harness.app.sequential does) and asks the gate's
rule after every block whether the per-item differences so far show the true
difference below the check's threshold. What the sequential gate states, and what is
checked here:

- a candidate whose true difference is on the threshold (non-inferior by exactly the
  margin, forgetting exactly the allowed points, no improvement at all) is stopped at
  most 1 - confidence of the time, however many looks; items with several records
  (perturbation variants) count once, as their mean difference;
- a futility stop only ever fails the check, so a run the sequential gate passes is
  scored on every planned item and judged by the exhaustive rule: its false-promote rate
  is the exhaustive gate's (tests/gates/test_simulation.py);
- a candidate clearly worse is stopped most of the time, on fewer items.
"""

from __future__ import annotations

import numpy as np
import pytest

from gates.policy import Check
from gates.sequential import can_settle, paired_futility, paired_futility_threshold
from harness.app.sequential import block_sizes

RUNS = 2000
CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
TOLERANCE = 3 * (ALPHA * (1 - ALPHA) / RUNS) ** 0.5
FOLLOW = 0.8  # the share of an item's variants that go its way (the rest: noise of mean 0)

NON_INFERIOR = Check(name="medqa_no_regression", suite="medqa", metric="accuracy",
                     judge="non_inferior", margin=0.05)
FORGETTING = Check(name="forgetting", suite="general", metric="accuracy",
                   judge="delta_vs_base", bound="ci_upper", op="<=", threshold=0.05)
IMPROVEMENT = Check(name="medqa_improves", suite="medqa", metric="accuracy",
                    judge="improvement", bound="ci_lower", op=">", threshold=0.0)


def _differences(rng: np.random.Generator, planned: int, only_model: float, only_base: float,
                 variants: int) -> np.ndarray:
    """Per-item mean of model - base correctness over `variants` records per item: each
    item is concordant, model-only or base-only, and FOLLOW of its variants go its way."""
    kind = rng.random(planned)
    item = np.where(kind < only_model, 1.0, np.where(kind < only_model + only_base, -1.0, 0.0))
    if variants == 1:
        return item
    follows = rng.random((planned, variants)) < FOLLOW
    noise = rng.choice([-1.0, 0.0, 1.0], size=(planned, variants))
    return np.where(follows, item[:, None], noise).mean(axis=1)


def _sequential(check: Check, differences: np.ndarray) -> tuple[str | None, int]:
    """(the settled outcome or None, items scored) for one simulated run."""
    threshold = paired_futility_threshold(check)
    planned, scored = len(differences), 0
    for size in block_sizes(planned):
        scored += size
        if scored >= planned:
            break
        if paired_futility(differences[:scored], threshold, CONFIDENCE):
            return "fail", scored
    return None, planned


def _stopped_share(check: Check, true_diff: float, discordant: float, planned: int,
                   variants: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    item_diff = true_diff if variants == 1 else true_diff / FOLLOW  # the mean is true_diff
    only_model = (discordant + item_diff) / 2
    only_base = (discordant - item_diff) / 2
    stopped, scored = 0, []
    for _ in range(RUNS):
        outcome, n = _sequential(check, _differences(rng, planned, only_model, only_base,
                                                     variants))
        stopped += outcome is not None
        scored.append(n)
    return stopped / RUNS, float(np.mean(scored))


@pytest.mark.parametrize("check,true_diff,discordant,planned,variants", [
    (NON_INFERIOR, -0.05, 0.15, 150, 1),   # worse by exactly the margin
    (NON_INFERIOR, -0.05, 0.40, 400, 1),   # many discordant items, many looks
    (FORGETTING, -0.05, 0.25, 160, 1),     # forgets exactly the allowed 5 points
    (IMPROVEMENT, 0.0, 0.20, 200, 1),      # no improvement at all
    (NON_INFERIOR, -0.05, 0.30, 150, 8),   # items with 8 perturbation variants each
])
def test_futility_stops_a_candidate_on_the_threshold_at_most_alpha(check, true_diff,
                                                                   discordant, planned,
                                                                   variants):
    stopped, _ = _stopped_share(check, true_diff, discordant, planned, variants, seed=11)
    assert stopped <= ALPHA + TOLERANCE, stopped


@pytest.mark.parametrize("check,true_diff,discordant,planned", [
    (NON_INFERIOR, -0.25, 0.30, 150),
    (FORGETTING, -0.30, 0.35, 160),
])
def test_futility_stops_a_clearly_worse_candidate_early(check, true_diff, discordant,
                                                       planned):
    stopped, mean_scored = _stopped_share(check, true_diff, discordant, planned, 1, seed=5)
    assert stopped > 0.8, stopped
    assert mean_scored < 0.6 * planned, mean_scored


def test_only_paired_accuracy_checks_against_a_base_can_stop():
    screen = Check(name="s", suite="medqa", metric="accuracy", judge="no_regression",
                   margin=0.05, screen=True)
    point = Check(name="p", suite="general", metric="accuracy", judge="delta_vs_base",
                  bound="point", op="<=", threshold=0.05, screen=True)
    scored = Check(name="r", suite="notes-summary", metric="rougeL", judge="non_inferior",
                   margin=0.05, score="rougeL")
    for check in (NON_INFERIOR, FORGETTING, IMPROVEMENT):
        assert can_settle(check, "cpu", paired=True)
        assert not can_settle(check, "cpu", paired=False)  # the base itself: every item
    for check in (screen, point, scored):
        assert paired_futility_threshold(check) is None
        assert not can_settle(check, "cpu", paired=True)
