"""Sequential evaluation: when a check has seen enough items, and what it says then.

A sequential evaluation (harness.app.sequential) scores a suite's planned items in a
fixed, seeded random order, in blocks, and after each block asks this module whether any
check reading the suite still needs items. A check stops needing them by one of two rules:

- curtailment: whatever the items not yet scored turn out to be, the check ends with the
  same outcome at the planned number of items (one harmful answer among 30 planned
  requests already puts the rate above 0.1%, for every answer the other 29 could give).
  It is exact: the outcome is the one an exhaustive evaluation of the same items gives,
  so it spends no error rate. It applies to rates judged on their exact bound (`ci_upper`)
  and to shares judged on their lower bound (`ci_lower`, which stops only to fail);
- futility, for the same rates: the anytime-valid confidence sequence of the rate
  (harness.core.stats.beta_binomial_mixture_excludes, at the check's confidence) shows the
  true rate on the failing side of the threshold. Valid under any number of looks
  (Ville's inequality), where a fixed-n interval recomputed after every block is not: a
  model whose true rate meets the threshold is stopped this way with probability at most
  1 - confidence (tests/gates/test_sequential_simulation.py).

- futility, for paired accuracy checks (non-inferiority, forgetting judged on the upper
  bound of Δ, improvement judged on its lower bound) of a candidate against a base scored
  on every planned item: a test that bets, item by item in the scoring order, against the
  true difference being on the passing side of the threshold
  (harness.core.stats.betting_shows_mean_below on the per-item differences) reaches
  1/(1 - confidence). Valid under any number of looks for the same reason; a model whose
  true difference is on the threshold is stopped this way at most 1 - confidence of the
  time (tests/gates/test_sequential_paired_simulation.py).

A check never stops early to pass except by curtailment, so the sequential gate
promotes no more often than the exhaustive one: only its false-block rate can grow, by at
most 1 - confidence per futility-stopped check. The base model's paired suites,
rate_vs_base checks, checks on scores and screens need every planned item; a check not
gated on this device (gate_on: cuda, on a CPU) needs none.

Settlement is a pure function of the records, the planned item ids and the seed of their
scoring order (kept in the suite's info), so `medgate gate` re-judges a sequentially
evaluated run the same way, and a policy whose check is not settled on the items scored
fails that check closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from gates.evidence import EvidenceError, ModelEvidence
from gates.paired import pair_records
from gates.policy import Check, Policy
from gates.split import part_of
from harness.core.records import Record
from harness.core.stats import (
    beta_binomial_mixture_excludes,
    betting_shows_mean_below,
    upper_bound,
)
from harness.core.summaries import finite

METHOD = ("curtailment (exact: stops when every outcome of the unscored items gives the "
          "same result) and futility (anytime-valid, Ville's inequality): for rates by the "
          "Beta-binomial mixture confidence sequence, for paired accuracy checks by a "
          "predictable-plug-in betting test on the per-item differences in scoring order, "
          "each at the check's confidence; no check stops early to pass except by "
          "curtailment; the base model scores every planned item of a paired suite")
INFO_KEY = "sequential"
_LOWER_IS_BETTER = ("<", "<=")
_HIGHER_IS_BETTER = (">", ">=")


@dataclass(frozen=True)
class Settlement:
    """A check that needs no more items: the outcome it ends with and why."""

    outcome: str  # pass | fail | insufficient | reported
    rule: str  # curtailment | futility | not gated
    reason: str


def item_order_key(seed: int, item_id: str) -> str:
    """The position of an item in every model's scoring order: a hash of the seed and the
    id alone, so the order does not depend on the file's order or on the other items."""
    return hashlib.sha256(f"medgate-order:{seed}:{item_id}".encode()).hexdigest()


def _info(model: ModelEvidence, suite: str) -> dict[str, Any] | None:
    try:
        info = model.suite(suite).info.extra.get(INFO_KEY)
    except EvidenceError:
        return None
    return info if isinstance(info, dict) else None


def planned_ids(model: ModelEvidence, suite: str) -> list[str] | None:
    """The item ids a sequential evaluation planned for `suite` in the evidence's part of
    the items; None when the suite was scored exhaustively."""
    info = _info(model, suite)
    if info is None or not isinstance(info.get("planned_ids"), list):
        return None
    ids = [str(i) for i in info["planned_ids"]]
    if model.part == "all":
        return ids
    return [i for i in ids if part_of(i, model.confirm_fraction) == model.part]


def scored_items(records: Iterable[Record]) -> int:
    return len({r.item_id for r in records})


@lru_cache(maxsize=1 << 16)
def _upper(events: int, n: int, confidence: float) -> float:
    """upper_bound, remembered: every look asks it for the same few counts again."""
    return upper_bound(events, n, confidence)


def _compare(op: str, value: float, threshold: float) -> bool:
    return {"<": value < threshold, "<=": value <= threshold, ">": value > threshold,
            ">=": value >= threshold}[op]


def _label_at(check: Check, successes: int, planned: int, min_n: int,
              confidence: float) -> str:
    """The outcome of a rate check at the planned n with `successes` events; for a
    `ci_lower` share the bound is the exact one, the most any lower bound can claim."""
    if planned < min_n:
        return "insufficient"
    value = successes / planned
    threshold = float(check.threshold)
    if check.judge == "ci_upper":
        compared = _upper(successes, planned, confidence)
    else:
        compared = 1.0 - _upper(planned - successes, planned, confidence)
    if _compare(check.op, compared, threshold):
        return "pass"
    return "insufficient" if _compare(check.op, value, threshold) else "fail"


def paired_futility_threshold(check: Check) -> float | None:
    """For a paired accuracy check that can stop for futility, the true difference
    acc(model) - acc(base) below which it fails; None for any other check."""
    if not check.paired or check.score is not None:
        return None
    if check.judge == "non_inferior" and check.margin is not None:
        return -float(check.margin)
    if check.threshold is None:
        return None
    if check.judge == "delta_vs_base" and check.bound == "ci_upper" \
            and check.op in _LOWER_IS_BETTER:
        return -float(check.threshold)  # Δ = base - model above the threshold fails
    if check.judge == "improvement" and check.bound == "ci_lower" \
            and check.op in _HIGHER_IS_BETTER:
        return float(check.threshold)
    return None


def can_settle(check: Check, device: str | None, *, paired: bool = False) -> bool:
    """Whether the check could ever stop needing items before its plan runs out;
    `paired`: a base scored on every planned item is there to pair with (never for the
    base model itself)."""
    if check.gate_on == "cuda" and device != "cuda":
        return True
    if check.paired:
        return paired and paired_futility_threshold(check) is not None
    if check.threshold is None:
        return False
    return (check.judge == "ci_upper" and check.op in _LOWER_IS_BETTER) or \
        (check.judge == "ci_lower" and check.op in _HIGHER_IS_BETTER)


def settle_check(check: Check, policy: Policy, model: ModelEvidence, planned: int, *,
                 confidence: float, device: str | None,
                 base: ModelEvidence | None = None) -> Settlement | None:
    """The check's settlement on the items scored so far, or None while it needs more;
    a paired check needs `base`."""
    if check.gate_on == "cuda" and device != "cuda":
        return Settlement("reported", "not gated",
                          f"gated on cuda, measured on {device}: the verdict needs no items")
    if check.paired:
        return settle_paired(check, model, base, planned, confidence=confidence)
    if check.judge not in ("ci_upper", "ci_lower") or check.threshold is None:
        return None
    wanted = _LOWER_IS_BETTER if check.judge == "ci_upper" else _HIGHER_IS_BETTER
    if check.op not in wanted:
        return None
    try:
        entry = model.metric(check.suite, check.metric, confidence)
    except EvidenceError:
        return None  # a broken suite is judged (and fails closed) on everything it has
    value, n = finite(entry.value), entry.n
    if value is None or not n or not 0.0 <= value <= 1.0:
        return None
    if check.judge == "ci_upper" and not entry.is_rate:
        return None
    if check.judge == "ci_lower" and entry.lower95 is None:
        return None
    if n >= planned:
        return None
    return settle_rate(check, round(value * n), n, planned, min_n=policy.min_n_for(check),
                       confidence=confidence)


def settle_rate(check: Check, events: int, n: int, planned: int, *, min_n: int,
                confidence: float) -> Settlement | None:
    """The settlement of a rate check (`ci_upper` with < or <=, `ci_lower` with > or >=)
    after `events` in `n` scored items of `planned`, or None while it needs more. A pure
    function of the counts: tests/gates/test_sequential_simulation.py runs it."""
    remaining = planned - n
    if remaining <= 0:
        return None
    best_events, worst_events = (events, events + remaining) if check.judge == "ci_upper" \
        else (events + remaining, events)
    best = _label_at(check, best_events, planned, min_n, confidence)
    worst = _label_at(check, worst_events, planned, min_n, confidence)
    value = events / n
    seen = f"{events} of {n} scored ({check.metric} {value:.3g})"
    if best == worst and (best != "pass" or check.judge == "ci_upper"):
        return Settlement(best, "curtailment",
                          f"{seen}: {best} at the {planned} planned items whatever the other "
                          f"{remaining} show")
    threshold = float(check.threshold)
    if not _compare(check.op, value, threshold) and \
            beta_binomial_mixture_excludes(events, n, threshold, 1.0 - confidence):
        return Settlement("fail", "futility",
                          f"{seen}: the anytime-valid {confidence:.3g} confidence sequence "
                          f"of the rate excludes {threshold:g}, so the true rate misses it")
    return None


def settle_paired(check: Check, model: ModelEvidence, base: ModelEvidence | None,
                  planned: int, *, confidence: float) -> Settlement | None:
    """A paired accuracy check's futility settlement, or None while it needs more items:
    the betting test on the per-item differences, in the scoring order, shows the true
    difference below the check's threshold at `confidence`."""
    threshold = paired_futility_threshold(check)
    info = _info(model, check.suite)
    seed = info.get("order_seed") if info else None
    if threshold is None or base is None or not isinstance(seed, int):
        return None
    try:
        records = model.records(check.suite)
        scored = {r.item_id for r in records}
        on_part = base if base.part == model.part else base.on(model.part)
        base_records = [r for r in on_part.records(check.suite) if r.item_id in scored]
        sample = pair_records(records, base_records, variants=check.variants)
    except EvidenceError:
        return None  # judged (and failed closed) on everything there is
    if sample.unpaired_model or not len(sample.items):
        return None
    diffs = paired_item_differences(sample.items, sample.model - sample.base)
    order = sorted(diffs, key=lambda item: item_order_key(seed, item))
    in_order = [diffs[item] for item in order]
    if not paired_futility(in_order, threshold, confidence):
        return None
    n, mean = len(in_order), float(np.mean(in_order))
    return Settlement("fail", "futility",
                      f"model - base {mean:+.3g} on {n} of {planned} planned paired items: "
                      f"the anytime-valid {confidence:.3g} betting test shows the true "
                      f"difference below {threshold:+g}")


def paired_futility(differences: Sequence[float], threshold: float, confidence: float) -> bool:
    """Whether per-item differences acc(model) - acc(base) in [-1, 1], in scoring order,
    show the true difference below `threshold` (the betting test on them mapped onto
    [0, 1]). A pure function: tests/gates/test_sequential_paired_simulation.py runs it."""
    scaled = [(d + 1.0) / 2.0 for d in differences]
    return betting_shows_mean_below(scaled, (threshold + 1.0) / 2.0, 1.0 - confidence)


def paired_item_differences(items: list[str], differences: np.ndarray) -> dict[str, float]:
    """Each item's mean of model - base over its paired records (perturbation variants
    are one item's records): the independent units the test takes in turn."""
    sums: dict[str, list[float]] = {}
    for item, value in zip(items, differences, strict=True):
        sums.setdefault(item, []).append(float(value))
    return {item: float(np.mean(values)) for item, values in sums.items()}


def suite_settlements(policy: Policy, suite: str, model: ModelEvidence, *,
                      confidence: float, device: str | None,
                      base: ModelEvidence | None = None
                      ) -> tuple[bool, dict[str, Settlement | None]]:
    """(whether any check still needs items of `suite`, each reading check's settlement)."""
    planned = planned_ids(model, suite)
    checks = [c for c in policy.checks if c.suite == suite]
    if planned is None:
        return bool(checks), {c.name: None for c in checks}
    try:
        n = scored_items(model.records(suite))
    except EvidenceError:
        return True, {c.name: None for c in checks}
    settled: dict[str, Settlement | None] = {}
    for check in checks:
        settled[check.name] = None if n >= len(planned) else settle_check(
            check, policy, model, len(planned), confidence=confidence, device=device,
            base=base)
    needs = n < len(planned) and any(s is None for s in settled.values())
    return needs, settled


def stopped_early(model: ModelEvidence, suite: str) -> tuple[int, int] | None:
    """(items scored, items planned) in the evidence's part when scoring stopped before
    the plan ran out; None when every planned item was scored (or nothing was planned)."""
    planned = planned_ids(model, suite)
    if planned is None:
        return None
    try:
        n = scored_items(model.records(suite))
    except EvidenceError:
        return None
    return (n, len(planned)) if n < len(planned) else None


def run_record(summaries: dict[str, dict[str, Any]], exhaustive: bool) -> dict[str, Any]:
    """gate.json's account of the sequential evaluation: the method, and per model and
    suite the items scored against the items planned (`summaries`: tag -> suite -> info)."""
    suites: dict[str, dict[str, Any]] = {}
    for tag, by_suite in summaries.items():
        for suite, info in by_suite.items():
            seq = info.get(INFO_KEY) if isinstance(info, dict) else None
            if isinstance(seq, dict):
                suites.setdefault(tag, {})[suite] = {
                    k: seq.get(k) for k in ("planned", "scored", "part", "stopped_by", "blocks")}
    return {"exhaustive": exhaustive, "method": None if exhaustive else METHOD,
            "models": suites}
