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
from gates.power import Scenario, block_rate, normal_n_for_power

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
