"""Choosing among K checkpoints does not inflate the chance of promoting a worse one.

Simulated runs: K candidate checkpoints whose true MedQA accuracy is 5 points below the
base's (so every one of them should be blocked), judged by the default policy's MedQA
non-inferiority check (margin 5 points, one-sided 2.5%). 2000 runs per K, each through the
gate's own paired difference, decision and item split; 500 bootstrap resamples per
judgement to keep the test to about a minute. The stated error rate is 2.5%; the
tolerance is three binomial standard errors of a 2000-run estimate (about 1 point).

The procedure the gate used before the split (every candidate judged on the items that
also ranked it, the best passing one promoted) is simulated too: its error rate grows
with K, which is what the split prevents.
"""

from __future__ import annotations

import math

import pytest

from gates.policy import load_policy
from gates.power import Scenario, promotion_rate

SIMS = 2000
N_BOOT = 500
STATED = 0.025
TOLERANCE = 3 * math.sqrt(STATED * (1 - STATED) / SIMS)
SCENARIO = Scenario(n=400, acc_base=0.6, discordance=0.2, true_diff=-0.05)


def medqa_check():
    return next(c for c in load_policy("default").checks if c.name == "medqa_no_regression")


@pytest.mark.slow
@pytest.mark.parametrize("k", [1, 3, 10])
def test_the_split_keeps_promoting_a_worse_checkpoint_within_the_stated_rate(k):
    check = medqa_check()
    assert check.margin == 0.05 and load_policy("default").selection.confirm_fraction == 0.5
    rate = promotion_rate(check, SCENARIO, k, "split", sims=SIMS, n_boot=N_BOOT, seed=k)
    assert rate <= STATED + TOLERANCE, rate


@pytest.mark.slow
@pytest.mark.parametrize("k", [3, 10])
def test_bonferroni_without_the_split_keeps_the_stated_rate(k):
    rate = promotion_rate(medqa_check(), SCENARIO, k, "bonferroni", sims=SIMS,
                          n_boot=N_BOOT, seed=100 + k)
    assert rate <= STATED + TOLERANCE, rate


@pytest.mark.slow
def test_judging_on_the_choosing_items_inflates_the_error_rate_with_k():
    rates = {k: promotion_rate(medqa_check(), SCENARIO, k, "same_items", sims=SIMS,
                               n_boot=N_BOOT, seed=200 + k) for k in (1, 10)}
    assert rates[1] <= STATED + TOLERANCE, rates
    assert rates[10] > 3 * STATED, rates  # the selection bias the split removes
