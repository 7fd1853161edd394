"""Operating characteristics of paired checks, by simulation through the real rule.

How often does a check block an unchanged checkpoint, and how often does it catch a real
drop, at a given suite size? Synthetic paired records are drawn with a stated per-item
disagreement and run through the same paired_diff and paired_decision a gate uses, so
the numbers describe the gate as shipped, not a textbook formula. (A normal-approximation
sample size is given beside the simulation as a cross-check.) `rate_pass_rate` does the
same for a rate compared with the base's (rate_vs_base). `promotion_rate` runs the whole
choice among K candidates the same way: judging every candidate on the items that also
chose it, against the gate's selection/confirmation split.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats as _st

from gates.checks import paired_decision, passes
from gates.paired import paired_diff
from gates.policy import Check
from gates.rate_vs_base import rate_decision
from gates.split import confirms


@dataclass(frozen=True)
class Scenario:
    """Paired correctness of a checkpoint and its base on n items.

    acc_base: base accuracy; discordance: share of items the two models disagree on when
    they are equally good; true_diff: acc(model) - acc(base) in the population.
    """

    n: int
    acc_base: float = 0.6
    discordance: float = 0.15
    true_diff: float = 0.0

    def probabilities(self) -> tuple[float, float, float, float]:
        """(both right, only model right, only base right, both wrong)."""
        only_model = (self.discordance + self.true_diff) / 2
        only_base = (self.discordance - self.true_diff) / 2
        both_right = self.acc_base - only_base
        both_wrong = 1 - both_right - only_model - only_base
        probs = (both_right, only_model, only_base, both_wrong)
        if min(probs) < 0:
            raise ValueError(f"impossible scenario {self}: probabilities {probs}")
        return probs

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        cat = rng.choice(4, size=self.n, p=self.probabilities())
        model = (cat == 0) | (cat == 1)
        base = (cat == 0) | (cat == 2)
        return model.astype(float), base.astype(float)


def block_rate(check: Check, scenario: Scenario, *, sims: int = 1000, n_boot: int = 1000,
               confidence: float = 0.95, seed: int = 0) -> float:
    """Share of simulated checkpoints the check blocks (fails)."""
    rng = np.random.default_rng(seed)
    blocked = 0
    for i in range(sims):
        x, y = scenario.draw(rng)
        d = paired_diff(x, y, n_boot=n_boot, seed=i, confidence=confidence)
        blocked += not passes(paired_decision(check, d))
    return blocked / sims


def rate_pass_rate(direction: str, scenario: Scenario, *, margin: float | None = None,
                   sims: int = 1000, n_boot: int = 1000, confidence: float = 0.95,
                   seed: int = 0) -> float:
    """Share of simulated checkpoints a rate_vs_base check passes.

    The scenario's indicators are events (a harmful answer) rather than correct answers:
    `acc_base` is the base's event rate and `true_diff` rate(model) - rate(base). Each
    draw goes through the gate's own paired_diff and rate_decision.
    """
    rng = np.random.default_rng(seed)
    passed = 0
    for i in range(sims):
        x, y = scenario.draw(rng)
        d = paired_diff(x, y, n_boot=n_boot, seed=i, confidence=confidence)
        passed += rate_decision(direction, margin, d, confidence).outcome == "pass"
    return passed / sims


def normal_n_for_power(drop: float, discordance: float, *, power: float = 0.8,
                       alpha_one_sided: float = 0.025, margin: float = 0.0) -> int | None:
    """Items a paired test needs to detect `drop` beyond `margin` (normal approximation).

    The per-item difference has variance about discordance - drop², so
    n = (z_alpha + z_power)² · var / (drop - margin)².
    """
    effect = drop - margin
    if effect <= 0:
        return None
    var = discordance - drop * drop
    z = _st.norm.ppf(1 - alpha_one_sided) + _st.norm.ppf(power)
    return math.ceil(z * z * var / (effect * effect))


def n_for_power(check: Check, make: Callable[[int], Scenario], *, power: float = 0.8,
                sims: int = 400, n_boot: int = 500, lo: int = 20, hi: int = 5000,
                seed: int = 0, block: bool = True) -> int | None:
    """Smallest n (to about 5%) at which the check blocks `make(n)` with `power`.

    `make(n)` returns the Scenario; with block=False, the n at which the check *passes*
    it with that probability (an unchanged model under non-inferiority). Bisection on a
    simulated rate; None if even `hi` items are not enough.
    """
    def rate(n: int) -> float:
        r = block_rate(check, make(n), sims=sims, n_boot=n_boot, seed=seed)
        return r if block else 1 - r

    if rate(hi) < power:
        return None
    while hi - lo > max(2, lo // 20):
        mid = (lo + hi) // 2
        if rate(mid) >= power:
            hi = mid
        else:
            lo = mid
    return hi


Procedure = Literal["same_items", "split", "bonferroni"]


def _candidates(scenario: Scenario, base: np.ndarray, k: int,
                rng: np.random.Generator) -> np.ndarray:
    """K candidates' correctness on the same items, each paired with `base` as the
    scenario says, independent of one another given the base (k x n)."""
    both_right, only_model, _, _ = scenario.probabilities()
    p_right = np.where(base == 1, both_right / scenario.acc_base,
                       only_model / (1 - scenario.acc_base))
    return (rng.random((k, base.size)) < p_right).astype(float)


def _judge(check: Check, model: np.ndarray, base: np.ndarray, confidence: float,
           n_boot: int, seed: int) -> bool:
    d = paired_diff(model, base, n_boot=n_boot, seed=seed, confidence=confidence)
    return passes(paired_decision(check, d))


def promotion_rate(check: Check, scenario: Scenario, k: int, procedure: Procedure, *,
                   confirm_fraction: float = 0.5, confidence: float = 0.95,
                   sims: int = 2000, n_boot: int = 1000, seed: int = 0) -> float:
    """Share of simulated runs in which one of `k` candidate checkpoints is promoted.

    Every candidate has the scenario's true difference from the base. Procedures:
    - same_items: every candidate judged on all items, the best passing one promoted
      (promotion happens when any candidate passes);
    - split: the gate's: candidates judged and ranked (by accuracy) on the selection items
      (gates.split, by item id), the chosen one judged on the confirmation items;
    - bonferroni: every candidate judged on all items at 1 - (1 - confidence) / k.
    """
    rng = np.random.default_rng(seed)
    ids = [f"item-{i}" for i in range(scenario.n)]
    held = np.array([confirms(i, confirm_fraction) for i in ids])
    promoted = 0
    for sim in range(sims):
        base = scenario.draw(rng)[1]
        models = _candidates(scenario, base, k, rng)
        if procedure == "same_items":
            promoted += any(_judge(check, m, base, confidence, n_boot, sim) for m in models)
        elif procedure == "bonferroni":
            level = 1 - (1 - confidence) / k
            promoted += any(_judge(check, m, base, level, n_boot, sim) for m in models)
        else:
            sel, conf = ~held, held
            passing = [m for m in models
                       if _judge(check, m[sel], base[sel], confidence, n_boot, sim)]
            if passing:
                chosen = max(passing, key=lambda m: m[sel].mean())  # earliest on ties
                promoted += _judge(check, chosen[conf], base[conf], confidence, n_boot,
                                   sim + sims)
    return promoted / sims
