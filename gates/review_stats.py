"""What the expert reviews of a run measure: agreement, and rates corrected by them.

- Judge-expert agreement: Cohen's kappa (with a bootstrap CI over records) between the
  automated label and the experts' adjudicated label, per suite and per category
  (a record's `meta.category`), for each review label.
- Inter-reviewer agreement: Fleiss' kappa over the records that several reviewers judged
  (those judged by the largest number of reviewers, as Fleiss' kappa needs a fixed count).
- Rates: for every rate whose per-record events are registered (harmful_rate,
  critical_error_rate, ...) on a suite with reviewed records, the judge's rate, the
  adjudicated rate (experts' labels override the judge's on the reviewed records) and a
  corrected estimate: reviewed records count as the experts said; the unreviewed ones as
  the judge said, corrected by the judge's error rates measured on the reviewed records
  (the share of its positives the experts confirmed, and of its negatives they found
  positive). Its interval draws both error rates from their Jeffreys posteriors
  (Beta(k + 1/2, n - k + 1/2)) and the unreviewed events from binomials, so a judge
  measured on few records gives a wide interval, and one never checked on its negatives
  gives a very wide one: honest about what the review could show.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from gates.review import (
    LABELS,
    Key,
    ReviewFile,
    adjudicate,
    apply_adjudications,
    judged_pairs,
    latest_fresh,
)
from harness.core.records import Record, read_records
from harness.core.rundir import RunDir
from harness.core.stats import CONFIDENCE, cohen_kappa_ci, fleiss_kappa, wilson_ci
from suites.metrics.registry import event_metrics, record_events

# The review label a rate's events are about.
RATE_LABEL = {"harmful_rate": "harmful", "unsafe_advice_rate": "harmful",
              "critical_error_rate": "critical"}
N_DRAWS = 4000


def judge_expert_agreement(run: RunDir, reviews: list[ReviewFile], *, seed: int = 0,
                           confidence: float = CONFIDENCE) -> list[dict[str, Any]]:
    """Rows {suite, category, label, kappa, ci, n, agreement}: per suite ("all"
    categories) and per category, for every label both judge and experts gave."""
    rows = []
    for label in LABELS:
        pairs = judged_pairs(run, reviews, label)
        groups: dict[tuple[str, str], list[tuple[bool, bool]]] = {}
        for record, judge, expert in pairs:
            groups.setdefault((record.suite, "all"), []).append((judge, expert))
            category = record.meta.get("category")
            if category is not None:
                groups.setdefault((record.suite, str(category)), []).append((judge, expert))
        for (suite, category), got in sorted(groups.items()):
            kappa = cohen_kappa_ci([j for j, _ in got], [e for _, e in got], seed=seed,
                                   confidence=confidence)
            rows.append({"suite": suite, "category": category, "label": label,
                         "disagreements": sum(j != e for j, e in got), **kappa.as_dict()})
    return rows


def inter_reviewer_agreement(reviews: list[ReviewFile]) -> list[dict[str, Any]]:
    """Rows {label, kappa, raters, n}: Fleiss' kappa over the records judged by the most
    reviewers (at least 2)."""
    fresh = latest_fresh(reviews)
    rows = []
    for label in LABELS:
        ratings: dict[Key, list[bool]] = {}
        for review in fresh:
            for entry in review.entries:
                if entry.label(label) is not None:
                    ratings.setdefault(entry.key, []).append(bool(entry.label(label)))
        counts = [len(v) for v in ratings.values() if len(v) >= 2]
        if not counts:
            continue
        raters = max(counts)
        table = [[sum(v), len(v) - sum(v)] for v in ratings.values() if len(v) == raters]
        rows.append({"label": label, "kappa": fleiss_kappa(table), "raters": raters,
                     "n": len(table)})
    return rows


def _jeffreys(k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.beta(k + 0.5, n - k + 0.5, size=N_DRAWS)


def corrected_rate(judge: list[bool], expert: list[bool | None], calib: list[tuple[bool, bool]],
                   *, seed: int = 0, confidence: float = CONFIDENCE) -> dict[str, Any]:
    """The rate of events over records whose judge labels are `judge` and whose experts'
    labels are `expert` (None: not reviewed), with the judge's error rates measured on
    `calib` (judge, expert) pairs. Returns the estimate and its interval."""
    n = len(judge)
    reviewed_events = sum(bool(e) for e in expert if e is not None)
    pos = sum(1 for j, e in zip(judge, expert) if e is None and j)
    neg = sum(1 for j, e in zip(judge, expert) if e is None and not j)
    tp = sum(1 for j, e in calib if j and e)
    n_pos = sum(1 for j, _ in calib if j)
    fn = sum(1 for j, e in calib if not j and e)
    n_neg = sum(1 for j, _ in calib if not j)
    rng = np.random.default_rng(seed)
    ppv, fomr = _jeffreys(tp, n_pos, rng), _jeffreys(fn, n_neg, rng)
    draws = (reviewed_events + rng.binomial(pos, ppv) + rng.binomial(neg, fomr)) / max(n, 1)
    ppv_hat = tp / n_pos if n_pos else None
    for_hat = fn / n_neg if n_neg else None
    point = (reviewed_events + pos * (ppv_hat if ppv_hat is not None else 0.5)
             + neg * (for_hat if for_hat is not None else 0.5)) / n if n else None
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(draws, [tail, 1 - tail]) if n else (None, None)
    return {"value": point, "ci": [float(lo) if n else None, float(hi) if n else None],
            "n": n, "reviewed": n - pos - neg, "judge_ppv": ppv_hat, "judge_false_omission":
            for_hat, "calibration": {"judge_positive": n_pos, "confirmed": tp,
                                     "judge_negative": n_neg, "missed": fn},
            "upper_one_sided": float(np.quantile(draws, confidence)) if n else None}


def _records(run: RunDir, tag: str, suite: str) -> list[Record]:
    path = run.eval_dir(tag) / f"{suite}.records.jsonl"
    return read_records(path) if path.exists() else []


def _suite_rates(run: RunDir, tag: str, suite: str) -> list[str]:
    """The registered event rates of a review label that the suite's summary reports."""
    summary = run.eval_dir(tag) / "summary.json"
    try:
        reported = json.loads(summary.read_text(encoding="utf-8")).get(suite) or {}
    except (OSError, ValueError):
        return []
    return [m for m in event_metrics() if m in RATE_LABEL and m in reported]


def review_rates(run: RunDir, reviews: list[ReviewFile], *, seed: int = 0,
                 confidence: float = CONFIDENCE) -> list[dict[str, Any]]:
    """Rows per (model tag, suite, rate) with reviewed records: judge's, adjudicated and
    corrected rates."""
    adjudications = adjudicate(reviews)
    rows = []
    for tag, suite in sorted({(k[0], k[1]) for k in adjudications}):
        raw = _records(run, tag, suite)
        fixed = apply_adjudications(raw, tag, adjudications)
        for name in _suite_rates(run, tag, suite):
            label = RATE_LABEL[name]
            judge = [flag for _, flag in record_events(name, raw)]
            adjudicated = [flag for _, flag in record_events(name, fixed)]
            keys = [(tag, r.suite, r.item_id, r.variant) for r, _ in record_events(name, raw)]
            expert = [adjudications[k].label(label) if k in adjudications else None
                      for k in keys]
            # Calibration: the judge's errors on this suite's reviewed records, every model.
            calib = [(j, e) for _, j, e in judged_pairs(run, reviews, label, suite)]
            n, k_judge, k_adj = len(judge), sum(judge), sum(adjudicated)
            rows.append({
                "tag": tag, "suite": suite, "metric": name, "label": label, "n": n,
                "judge": {"value": k_judge / n if n else None, "events": k_judge,
                          "ci": list(wilson_ci(k_judge, n, confidence))},
                "adjudicated": {"value": k_adj / n if n else None, "events": k_adj,
                                "ci": list(wilson_ci(k_adj, n, confidence))},
                "corrected": corrected_rate(judge, expert, calib, seed=seed,
                                            confidence=confidence)})
    return rows


def review_summary(run: RunDir, reviews: list[ReviewFile], *, seed: int = 0,
                   confidence: float = CONFIDENCE) -> dict[str, Any]:
    """reviews/summary.json: who reviewed what, agreement, and the rates it changes."""
    fresh = latest_fresh(reviews)
    return {
        "confidence": confidence,
        "reviewers": [{"reviewer": r.reviewer, "role": r.role, "items": len(r.entries),
                       "disagreements": sum(e.verdict == "disagree" for e in r.entries),
                       "file": r.path.name if r.path else None} for r in fresh],
        "stale": [{"reviewer": r.reviewer, "file": r.path.name if r.path else None,
                   "changed": r.changed} for r in reviews if r.stale],
        "judge_expert": judge_expert_agreement(run, reviews, seed=seed, confidence=confidence),
        "inter_reviewer": inter_reviewer_agreement(reviews),
        "rates": review_rates(run, reviews, seed=seed, confidence=confidence),
    }
