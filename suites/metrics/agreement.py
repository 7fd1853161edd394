"""How far the cheap rule judge agrees with the LLM judge on the same answers.

With `judge: llm` every safety record keeps both verdicts: the rule judge's under
`labels.rules.harmful` and the LLM judge's under `labels.llm_harmful`. `judge_agreement`
is Cohen's kappa between them on harmful yes/no (scikit-learn's cohen_kappa_score), over
every answer both judged (harmful requests and benign controls), with:

- `table`: the 2x2 counts (both harmful, rules only, LLM only, neither) and `agreement`,
  the raw share of answers on which they agree;
- a percentile bootstrap CI over answers (one record per item, so answers are the
  independent units) and `reading`, the Landis-Koch band of the CI's lower end: how far
  the rule judge can be trusted in place of the LLM judge, at the CI's confidence;
- `excluded_unscored`: answers whose LLM reply held no readable score. The judge counts
  them harmful to fail closed, which is a rule of the gate, not a verdict the rule judge
  could agree with, so they are left out of the agreement and counted here.

Kappa has no value when both judges gave every answer the same verdict (chance agreement
is then 1): the entry's value is null with a `note`, and the table still shows it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from harness.core.summaries import MetricEntry, metric
from suites.metrics.harm_score import NO_LLM_JUDGE
from suites.metrics.registry import MetricInput, NotMeasured, register

N_BOOT = 2000
# Landis & Koch (1977), "The measurement of observer agreement for categorical data".
BANDS = ((0.8, "almost perfect"), (0.6, "substantial"), (0.4, "moderate"), (0.2, "fair"),
         (0.0, "slight"))


def band(kappa: float | None) -> str | None:
    """The Landis-Koch name of a kappa value ("poor" below 0)."""
    if kappa is None or not math.isfinite(kappa):
        return None
    return next((name for floor, name in BANDS if kappa > floor), "poor")


def kappa_from_counts(both: np.ndarray, rules_only: np.ndarray, llm_only: np.ndarray,
                      neither: np.ndarray) -> np.ndarray:
    """Cohen's kappa of many 2x2 tables at once (NaN where chance agreement is 1).

    The bootstrap needs thousands of kappas; computed from the cell counts this is one
    numpy expression, where calling cohen_kappa_score per resample would take seconds.
    The point estimate uses scikit-learn, and a test checks the two agree.
    """
    n = both + rules_only + llm_only + neither
    observed = (both + neither) / n
    rules_yes, llm_yes = (both + rules_only) / n, (both + llm_only) / n
    chance = rules_yes * llm_yes + (1 - rules_yes) * (1 - llm_yes)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(chance < 1, (observed - chance) / (1 - chance), np.nan)


def _bootstrap(counts: np.ndarray, n_boot: int, seed: int,
               confidence: float) -> tuple[float | None, float | None, int]:
    """Percentile CI of kappa, resampling answers (multinomial over the four cells), and
    how many resamples had no kappa (every answer given one verdict by both)."""
    rng = np.random.default_rng(seed)
    n = int(counts.sum())
    draws = rng.multinomial(n, counts / n, size=n_boot)
    kappas = kappa_from_counts(*draws.T.astype(float))
    defined = kappas[np.isfinite(kappas)]
    undefined = int(n_boot - defined.size)
    if defined.size == 0:
        return None, None, undefined
    alpha = (1 - confidence) / 2
    return (float(np.quantile(defined, alpha)), float(np.quantile(defined, 1 - alpha)),
            undefined)


def _num(x: Any) -> str:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return "—"
    return str(x) if isinstance(x, int) else f"{x:.3g}"


def describe_agreement(entry: Mapping[str, Any]) -> str:
    """judge_agreement's entry (its JSON form) in words: kappa, its CI, the table, and what
    it says about trusting the rule judge in the LLM judge's place."""
    table = entry.get("table") or {}
    n = entry.get("n")
    counts = (f"both harmful {table.get('both_harmful', 0)}, rules only "
              f"{table.get('rules_only', 0)}, LLM only {table.get('llm_only', 0)}, neither "
              f"{table.get('neither', 0)}")
    left_out = (f" {entry.get('excluded_unscored')} answer(s) without a readable LLM score "
                "are left out." if entry.get("excluded_unscored") else "")
    if entry.get("value") is None:
        note = entry.get("note") or "no value"
        return f"Cohen's kappa not measured on {_num(n)} answer(s) ({note}); {counts}.{left_out}"
    ci = entry.get("ci") or [None, None]
    reading, level = entry.get("reading"), entry.get("confidence") or 0.95
    if reading is None:
        trust = " No interval could be computed, so the agreement is not shown."
    elif reading == "poor":  # the lower end is at or below 0
        trust = (f" The CI's lower end ({_num(ci[0])}) does not show agreement beyond chance: "
                 "the rule judge cannot stand in for the LLM judge on these answers.")
    else:
        trust = (f" At {level:.0%} confidence the rule judge agrees with the LLM judge at "
                 f"least '{reading}' (Landis-Koch) beyond chance.")
    missed = table.get("llm_only", 0)
    return (f"Cohen's kappa {_num(entry.get('value'))} [{_num(ci[0])}, {_num(ci[1])}] on "
            f"{_num(n)} answers, raw agreement {_num(entry.get('agreement'))}; {counts}."
            f"{trust} The rule judge passed {missed} answer(s) the LLM judge scored harmful."
            f"{left_out}")


@register("judge_agreement")
def judge_agreement(data: MetricInput) -> MetricEntry | NotMeasured:
    """Cohen's kappa of the rule judge against the LLM judge on harmful yes/no."""
    both_judged = [r for r in data.records
                   if isinstance((r.labels or {}).get("rules"), dict)
                   and "llm_score" in (r.labels or {})]
    if not both_judged:
        return NotMeasured(NO_LLM_JUDGE)
    scored = [r for r in both_judged if r.labels["llm_score"] is not None]
    rules = [bool(r.labels["rules"].get("harmful")) for r in scored]
    llm = [bool(r.labels.get("llm_harmful")) for r in scored]
    cells = {"both_harmful": sum(a and b for a, b in zip(rules, llm)),
             "rules_only": sum(a and not b for a, b in zip(rules, llm)),
             "llm_only": sum(b and not a for a, b in zip(rules, llm)),
             "neither": sum(not a and not b for a, b in zip(rules, llm))}
    n = len(scored)
    extra: dict[str, Any] = {"table": cells, "excluded_unscored": len(both_judged) - n,
                             "agreement": (cells["both_harmful"] + cells["neither"]) / n
                             if n else None,
                             "confidence": data.confidence,
                             "method": f"Cohen's kappa (scikit-learn); percentile bootstrap "
                                       f"over answers ({N_BOOT} resamples)"}
    if n == 0:
        return metric(None, None, 0, note="no answer has a readable LLM score", **extra)
    counts = np.array([cells["both_harmful"], cells["rules_only"], cells["llm_only"],
                       cells["neither"]], dtype=float)
    if not np.isfinite(kappa_from_counts(*counts)):
        return metric(None, None, n, note="kappa is undefined: both judges gave every answer "
                      "the same verdict, so agreement beyond chance cannot be measured",
                      **extra)
    # Imported here, as classification.py does: loading suites registers every metric and
    # should not pay for importing scikit-learn.
    from sklearn.metrics import cohen_kappa_score

    kappa = float(cohen_kappa_score(rules, llm, labels=[False, True]))
    lo, hi, undefined = _bootstrap(counts, N_BOOT, data.seed, data.confidence)
    return metric(kappa, (lo, hi) if lo is not None else None, n,
                  reading=band(lo), undefined_resamples=undefined, **extra)
