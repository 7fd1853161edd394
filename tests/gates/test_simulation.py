"""The paired checks' error rates hold up over simulated checkpoint/base pairs.

Synthetic paired records (MedQA 100, PubMedQA 60 items), base accuracy 60%, and 15% of
items on which two equally good models disagree (realistic for a LoRA checkpoint and its
base). Each cell simulates 1000 pairs through the gate's own decision code; the bootstrap
uses 1000 resamples instead of the policy's 2000 to keep the test fast. The stated error
rate is the one-sided 2.5% tail of the 95% CI; the tolerance is three binomial standard
errors of a 1000-pair estimate (about 1.5 points). The choice among K candidates is
simulated in test_selection_bias.py.
"""

from __future__ import annotations

import math

import pytest

from gates.policy import Check, load_policy
from gates.power import Scenario, block_rate, normal_n_for_power, rate_pass_rate
from harness.core.stats import wilson_ci

SIMS = 1000
N_BOOT = 1000
STATED = 0.025
TOLERANCE = 3 * math.sqrt(STATED * (1 - STATED) / SIMS)


def check(policy: str, name: str):
    return next(c for c in load_policy(policy).checks if c.name == name)


NO_REGRESSION = Check(name="nr", suite="medqa", metric="accuracy", judge="no_regression",
                      margin=0.0, screen=True)


@pytest.mark.parametrize("n", [100, 60])
def test_unchanged_checkpoint_wrongly_blocked_by_the_no_regression_screen_at_most_stated_rate(n):
    rate = block_rate(NO_REGRESSION, Scenario(n, 0.6, 0.15, 0.0), sims=SIMS, n_boot=N_BOOT,
                      seed=7)
    assert rate <= STATED + TOLERANCE, rate


@pytest.mark.parametrize("policy, name", [("strict", "medqa_non_inferior"),
                                          ("default", "medqa_no_regression")])
def test_non_inferiority_wrongly_passes_a_model_worse_by_the_margin_at_most_stated_rate(
        policy, name):
    ni = check(policy, name)
    blocked = block_rate(ni, Scenario(100, 0.6, 0.15, -ni.margin), sims=SIMS, n_boot=N_BOOT,
                         seed=11)
    assert 1 - blocked <= STATED + TOLERANCE, 1 - blocked


def test_the_checks_do_block_a_large_drop():
    # Guards the tests above against a check that never blocks.
    for c in (NO_REGRESSION, check("default", "medqa_no_regression")):
        rate = block_rate(c, Scenario(100, 0.6, 0.15, -0.15), sims=300, n_boot=N_BOOT, seed=3)
        assert rate > 0.9, (c.name, rate)


def test_normal_sample_size():
    # (1.96 + 0.84)^2 * (0.15 - 0.0025) / 0.05^2 ≈ 463
    assert 455 <= normal_n_for_power(0.05, 0.15) <= 470
    assert normal_n_for_power(0.05, 0.15, margin=0.05) is None


# rate_vs_base on harmful answers: 400 harmful requests, base harmful rate 10%, and 8% of
# requests on which two equally safe models disagree. The stated error rate is the same
# one-sided 2.5% (p <= (1 - confidence) / 2 for `lower`, the upper end of the 95% CI for
# `not_higher`); the Monte Carlo CI of each simulated rate is shown in the assertion.
RATE_SIMS = 1000
RATE_MARGIN = 0.02


def _mc_ci(rate: float, sims: int) -> tuple[float, float]:
    return wilson_ci(round(rate * sims), sims)


@pytest.mark.parametrize("n", [400, 100])
def test_lower_passes_a_checkpoint_that_is_truly_not_lower_at_most_stated_rate(n):
    rate = rate_pass_rate("lower", Scenario(n, 0.10, 0.08, 0.0), sims=RATE_SIMS,
                          n_boot=N_BOOT, seed=5)
    lo, hi = _mc_ci(rate, RATE_SIMS)
    assert rate <= STATED + TOLERANCE and lo <= STATED, (rate, (lo, hi))


def test_not_higher_passes_a_checkpoint_truly_higher_by_the_margin_at_most_stated_rate():
    rate = rate_pass_rate("not_higher", Scenario(400, 0.10, 0.08, RATE_MARGIN),
                          margin=RATE_MARGIN, sims=RATE_SIMS, n_boot=N_BOOT, seed=13)
    lo, hi = _mc_ci(rate, RATE_SIMS)
    assert rate <= STATED + TOLERANCE and lo <= STATED, (rate, (lo, hi))


def test_the_rate_checks_do_pass_a_real_reduction():
    # Guards the two tests above against a judge that never passes.
    lower = rate_pass_rate("lower", Scenario(400, 0.10, 0.08, -0.06), sims=300,
                           n_boot=N_BOOT, seed=17)
    not_higher = rate_pass_rate("not_higher", Scenario(400, 0.10, 0.08, -0.04),
                                margin=RATE_MARGIN, sims=300, n_boot=N_BOOT, seed=19)
    assert lower > 0.9 and not_higher > 0.9, (lower, not_higher)
