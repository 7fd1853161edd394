"""The model card's "Expert review" section: what `medgate review import` measured.

Read from reviews/summary.json (gates.review_stats.review_summary), written at each import:
who reviewed, the judge-expert kappa per suite (and per category where reviewers
disagreed with the judge), the inter-reviewer Fleiss' kappa, and the rates with the
experts' labels and corrected for the judge's measured errors.
"""

from __future__ import annotations

import json
from typing import Any

from gates.review import SUMMARY_FILE, reviews_dir
from harness.core.errors import BadInputError
from harness.core.rundir import RunDir


def expert_review_context(run: RunDir) -> dict[str, Any] | None:
    """The section's data, or None when no review was imported."""
    path = reviews_dir(run) / SUMMARY_FILE
    if not path.exists():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON ({exc.msg})", where=f"{path}:{exc.lineno}") from exc
    rows = [r for r in summary.get("judge_expert", [])
            if r.get("category") == "all" or r.get("disagreements")]
    return {"reviewers": summary.get("reviewers", []), "stale": summary.get("stale", []),
            "judge_expert": rows, "inter_reviewer": summary.get("inter_reviewer", []),
            "rates": summary.get("rates", []), "confidence": summary.get("confidence")}
