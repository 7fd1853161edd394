"""Per-item evidence for the explorer page: clean and perturbed answers side by side.

Rows are plain JSON embedded in the page; the page's script builds the table with
textContent only, so whatever a model wrote is shown as text.

The page is also where medical experts adjudicate: each item carries what the judge said
(`judge`), how sure it was (`certainty`), whether it is in the review sample and what
imported reviews concluded (`expert`); `review` carries the records hashes a review file
is made against (gates.review).
"""

from __future__ import annotations

import json
import math
from typing import Any

from gates.review import adjudicate, read_reviews, records_hashes
from harness.core.records import CLEAN
from harness.core.rundir import BASE_TAG
from reports.review_sample import read_sample, sample_keys
from reports.rundata import RunData


def _flags(record: dict[str, Any]) -> dict[str, bool]:
    labels = record.get("labels") or {}
    return {"harmful": bool(labels.get("harmful")), "critical": bool(record.get("critical"))}


def _why(record: dict[str, Any]) -> str:
    """The judge's or the suite's stated reason for a label, for the reviewer to check."""
    labels = record.get("labels") or {}
    parts = []
    if labels.get("judge"):
        parts.append(f"judge {labels['judge']}")
    reasons = labels.get("reasons")
    if isinstance(reasons, list):
        parts.extend(str(r) for r in reasons)
    elif reasons:
        parts.append(str(reasons))
    danger = labels.get("danger_reason") or (record.get("meta") or {}).get("danger_reason")
    if danger and record.get("critical"):
        parts.append(f"danger: {danger}")
    return "; ".join(parts)


def _unsupported(record: dict[str, Any]) -> list[str] | None:
    """The entities a generated report states that its input does not support (None when
    the suite does not check support), for the reviewer to see item by item."""
    found = (record.get("labels") or {}).get("unsupported_entities")
    return [str(e) for e in found] if isinstance(found, list) else None


def _short(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _judge(record: dict[str, Any]) -> dict[str, bool | None]:
    """What the automated judgement said, in the review's label names (gates.review's
    judge_labels, for a record read as JSON)."""
    harmful = (record.get("labels") or {}).get("harmful")
    return {"harmful": None if harmful is None else bool(harmful),
            "correct": record.get("correct"), "critical": bool(record.get("critical"))}


def certainty(record: dict[str, Any]) -> float | None:
    """How sure the automated judgement was, 0 (a toss-up) to 1, for the "least sure"
    filter; None when nothing says.

    An LLM judge's 1-5 score: its distance from the middle (0 when the rule judge
    disagreed with it). A rule judge alone: a harmful request answered without a refusal
    and without a harmful pattern is the case it can least tell (0.5), else 1. A multiple
    choice: the probability margin between the two likeliest options.
    """
    labels = record.get("labels") or {}
    score = labels.get("llm_score")
    if isinstance(score, (int, float)) and not isinstance(score, bool):
        rules = labels.get("rules") or {}
        if "harmful" in rules and bool(rules["harmful"]) != bool(labels.get("llm_harmful")):
            return 0.0
        return min(1.0, abs(float(score) - 3.0) / 2.0)
    if "harmful" in labels and "refusal" in labels:
        asked_harm = (record.get("meta") or {}).get("kind") == "harmful"
        return 0.5 if asked_harm and not labels["refusal"] and not labels["harmful"] else 1.0
    logprobs = record.get("choice_logprobs")
    if isinstance(logprobs, list) and len(logprobs) >= 2:
        top = sorted(logprobs, reverse=True)
        probs = [math.exp(x - top[0]) for x in top]
        total = sum(probs)
        return (probs[0] - probs[1]) / total
    return None


def _review_payload(data: RunData) -> dict[str, Any]:
    run = data.run
    sample = read_sample(run)
    return {"run_id": run.root.name, "evidence": records_hashes(run),
            "sample": sorted("|".join(k) for k in sample_keys(sample)),
            "sample_tag": sample.get("tag") if sample else None}


def build_items(data: RunData) -> dict[str, Any]:
    """{tags, subject, items: {tag: [item]}} where an item groups one question's variants."""
    by_tag: dict[str, list[dict[str, Any]]] = {}
    adjudications = adjudicate(read_reviews(data.run))
    for tag, suites in data.records.items():
        base_index = {(s, r["item_id"], r["variant"]): r
                      for s, recs in data.records.get(BASE_TAG, {}).items() for r in recs}
        items: list[dict[str, Any]] = []
        for suite, records in suites.items():
            grouped: dict[str, list[dict[str, Any]]] = {}
            for r in records:
                grouped.setdefault(r["item_id"], []).append(r)
            for item_id, recs in grouped.items():
                recs.sort(key=lambda r: (r["variant"] != CLEAN, r["variant"]))
                clean = next((r for r in recs if r["variant"] == CLEAN), None)
                variants = []
                for r in recs:
                    base = base_index.get((suite, item_id, r["variant"])) if tag != BASE_TAG else None
                    flip = (clean is not None and r is not clean and r.get("correct") is not None
                            and clean.get("correct") is not None and r["correct"] != clean["correct"])
                    variants.append({
                        "variant": r["variant"], "prompt": r.get("prompt", ""),
                        "pred": _short(r.get("pred")), "correct": r.get("correct"),
                        "output": r.get("output") or "", "flip": flip,
                        "base_pred": _short(base.get("pred")) if base else None,
                        "base_correct": base.get("correct") if base else None,
                        "why": _why(r), "unsupported": _unsupported(r), **_flags(r)})
                first = clean or recs[0]
                judge = _judge(first)
                adj = adjudications.get((tag, suite, item_id, first["variant"]))
                items.append({
                    "tag": tag, "variant": first["variant"], "judge": judge,
                    "certainty": certainty(first),
                    "expert": None if adj is None else {
                        "harmful": adj.harmful, "correct": adj.correct,
                        "critical": adj.critical, "reviewers": adj.reviewers,
                        "disagrees": any(adj.label(k) is not None and judge[k] is not None
                                         and adj.label(k) != judge[k] for k in judge)},
                    "suite": suite, "id": item_id, "demo": bool(first.get("demo")) or data.is_demo(suite),
                    "prompt": first.get("prompt", ""), "gold": _short(first.get("gold")),
                    "choices": first.get("choices") or [], "variants": variants,
                    "flip": any(v["flip"] for v in variants),
                    "harmful": any(v["harmful"] for v in variants),
                    "critical": any(v["critical"] for v in variants),
                    "wrong": any(v["correct"] is False for v in variants)})
        order = {suite: k for k, suite in enumerate(data.suites())}
        items.sort(key=lambda it: (order.get(it["suite"], len(order)), it["id"]))
        by_tag[tag] = items
    return {"tags": list(by_tag), "subject": data.subject_tag, "items": by_tag,
            "demo_suites": data.demo_suites(), "review": _review_payload(data)}


def embed_json(payload: Any) -> str:
    """JSON safe inside <script type="application/json">: no `</`, `<!--` or U+2028 can end it."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
