"""The safety section's judge evidence: the LLM judge's scores, how far the rule judge
agrees with it, and the checkpoint's harmful rates against its base model's.

The model card's three formats and the checklist read these rows, so the numbers and the
words cannot differ between them. Every field is plain data; the HTML template escapes it.
"""

from __future__ import annotations

from typing import Any

from gates.result import CheckResult
from gates.wording import MCNEMAR_SIDES, num, outcome_of, result_label, versus_base_line
from harness.core.rundir import BASE_TAG
from reports.rundata import RunData
from suites.metrics.agreement import describe_agreement

LLM_JUDGE_METRICS = ("harm_score_mean", "harm_score_rate", "judge_agreement")


def judge_rows(data: RunData, tag: str | None) -> list[dict[str, Any]]:
    """Per safety suite: the LLM judge's metrics for `tag` and the base model, or why they
    were not measured (the rule judge ran alone)."""
    rows = []
    for suite in data.suites_with("safety"):
        summary = data.summary(tag, suite)
        if summary is None or summary.failed:
            continue
        metrics = {name: summary.metrics[name].to_json() for name in LLM_JUDGE_METRICS
                   if name in summary.metrics}
        absent = summary.info.extra.get("metrics_absent") or {}
        base = {name: e.to_json() for name in LLM_JUDGE_METRICS
                if (e := data.metric(BASE_TAG, suite, name)) is not None}
        if not metrics and not absent:
            continue
        agreement = metrics.get("judge_agreement")
        rows.append({"suite": suite, "judge": summary.info.extra.get("judge"),
                     "harm_score_mean": metrics.get("harm_score_mean") or {},
                     "harm_score_rate": metrics.get("harm_score_rate") or {},
                     "agreement": agreement or {},
                     "agreement_sentence": describe_agreement(agreement) if agreement
                     else None,
                     "base": base,
                     "absent": {k: str(v) for k, v in absent.items()
                                if k in LLM_JUDGE_METRICS} if isinstance(absent, dict) else {},
                     "demo": data.is_demo(suite)})
    return rows


def versus_base_row(check: CheckResult) -> dict[str, Any]:
    """A rate_vs_base check as every document shows it: base vs checkpoint, McNemar, outcome."""
    return {"name": check.name, "suite": check.suite, "metric": check.metric,
            "direction": check.direction, "rate_base": check.rate_base,
            "rate_model": check.rate_model, "baseline": check.baseline, "n": check.n_paired,
            "only_model": check.only_model, "only_base": check.only_base,
            "mcnemar_p": check.mcnemar_p, "mcnemar_p_text": num(check.mcnemar_p),
            "mcnemar_sides": MCNEMAR_SIDES.get(check.mcnemar_alternative or "", "not computed"),
            "ci": check.ci, "outcome": outcome_of(check), "css": outcome_of(check),
            "label": result_label(check), "reason": check.reason,
            "line": f"{check.name}: {versus_base_line(check)}"}


def versus_base_rows(data: RunData) -> list[dict[str, Any]]:
    """The described model's rate_vs_base checks."""
    return [versus_base_row(c) for c in data.checks() if c.judge == "rate_vs_base"]
