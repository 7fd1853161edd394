"""Per-item evidence for the explorer page: clean and perturbed answers side by side.

Rows are plain JSON embedded in the page; the page's script builds the table with
textContent only, so whatever a model wrote is shown as text.
"""

from __future__ import annotations

import json
from typing import Any

from harness.core.records import CLEAN
from harness.core.rundir import BASE_TAG
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


def build_items(data: RunData) -> dict[str, Any]:
    """{tags, subject, items: {tag: [item]}} where an item groups one question's variants."""
    by_tag: dict[str, list[dict[str, Any]]] = {}
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
                items.append({
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
            "demo_suites": data.demo_suites()}


def embed_json(payload: Any) -> str:
    """JSON safe inside <script type="application/json">: no `</`, `<!--` or U+2028 can end it."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
