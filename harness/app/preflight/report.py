"""The data gate: PHI, overlap and quality combined into a verdict and data/preflight.json.

The verdict follows the policy in `PreflightConfig`: PHI `warn` or `block`, overlap
`remove` (the contaminated items are dropped from scoring) or `block`. Row quality is
reported, never blocking. No training row makes the gate fail (nothing was checked, so
nothing may pass). Nothing raw leaves here: PHI values are masked and overlaps are named
by item id and row number only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.app.preflight.overlap import find_overlap
from harness.app.preflight.phi import scan_rows
from harness.app.preflight.quality import check_quality
from harness.core.atomic import write_text
from harness.core.config import PreflightConfig
from harness.core.errors import BadInputError
from harness.core.secrets import redact

_ROWS_IN_REASON = 10


@dataclass
class PreflightResult:
    """What the data gate decided and why; `to_dict()` is data/preflight.json."""

    passed: bool
    reasons: list[str]
    warnings: list[str]
    phi: dict[str, dict[str, Any]]
    overlap: dict[str, dict[str, Any]]
    contaminated: dict[str, list[str]]
    quality: dict[str, Any]
    policy: dict[str, Any]
    rows: int
    sha256: str
    provenance: dict[str, Any] | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "BLOCK"

    def excluded_items(self, suite: str) -> set[str]:
        """Items the evaluation must not score: the contaminated ones under `remove`."""
        if self.policy.get("overlap") != "remove":
            return set()
        return set(self.contaminated.get(suite, ()))

    def to_dict(self) -> dict[str, Any]:
        """data/preflight.json. `phi` and `overlap` are compact counts (type -> findings,
        suite -> contaminated items) for reports; the details sit beside them."""
        total = sum(len(v) for v in self.contaminated.values())
        action = self.policy.get("overlap")
        return {
            "verdict": self.verdict,
            "passed": self.passed,
            "reasons": self.reasons,
            "warnings": self.warnings,
            "policy": self.policy,
            "rows": {"train": self.rows},
            "sha256": {"train": self.sha256},
            "phi": {phi_type: entry["count"] for phi_type, entry in self.phi.items()},
            "phi_total": sum(e["count"] for e in self.phi.values()),
            "phi_findings": self.phi,
            "overlap": {suite: entry["n"] for suite, entry in self.overlap.items()},
            "overlap_action": action,
            "overlap_ngram": self.policy.get("ngram"),
            # under `remove` the evaluation drops them; under `block` the run stops
            "overlap_remaining": 0 if action == "remove" else total,
            "overlap_detail": self.overlap,
            "contaminated": self.contaminated,
            "quality": self.quality,
            "provenance": self.provenance,
        }


def _validate(train_texts: Any, eval_items: Any) -> tuple[list[tuple[int, str]],
                                                          dict[str, list[tuple[str, str]]]]:
    """Plain data in the promised shape, or a BadInputError that says which entry is wrong."""
    rows: list[tuple[int, str]] = []
    for i, entry in enumerate(train_texts):
        if (not isinstance(entry, tuple | list) or len(entry) != 2
                or not isinstance(entry[0], int) or isinstance(entry[0], bool)
                or not isinstance(entry[1], str)):
            raise BadInputError(f"training text {i}: expected (row number, text), got "
                                f"{type(entry).__name__}", where="data preflight")
        rows.append((entry[0], entry[1]))
    if not isinstance(eval_items, dict):
        raise BadInputError("evaluation items must map suite -> [(item_id, text)]",
                            where="data preflight")
    items: dict[str, list[tuple[str, str]]] = {}
    for suite, entries in eval_items.items():
        checked = []
        for i, entry in enumerate(entries or []):
            if (not isinstance(entry, tuple | list) or len(entry) != 2
                    or not isinstance(entry[1], str) or entry[0] is None):
                raise BadInputError(f"suite '{suite}' item {i}: expected (item_id, text)",
                                    where="data preflight")
            checked.append((str(entry[0]), entry[1]))
        items[str(suite)] = checked
    return rows, items


def _rows_text(rows: list[int], total: int) -> str:
    shown = ", ".join(str(r) for r in rows[:_ROWS_IN_REASON])
    more = total - min(len(rows), _ROWS_IN_REASON)
    return f"row{'s' if total != 1 else ''} {shown}" + (f" and {more} more" if more > 0 else "")


def _items(n: int) -> str:
    return f"{n} evaluation item overlaps" if n == 1 else f"{n} evaluation items overlap"


def _phi_summary(phi: dict[str, dict[str, Any]]) -> str:
    parts = [f"{entry['count']} {phi_type} ({_rows_text(entry['rows'], entry['rows_total'])})"
             for phi_type, entry in phi.items() if entry["count"]]
    return "; ".join(parts)


def _overlap_summary(overlap: dict[str, dict[str, Any]], n: int) -> str:
    return "; ".join(f"{suite}: {e['n']} of {e['items_checked']} "
                     f"({e['exact']} exact, {e['ngram']} by {n}-gram)"
                     for suite, e in overlap.items() if e["n"])


def _sha256(rows: list[tuple[int, str]]) -> str:
    digest = hashlib.sha256()
    for row, text in rows:
        digest.update(json.dumps([row, text], ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def run_preflight(train_texts: list[tuple[int, str]],
                  eval_items: dict[str, list[tuple[str, str]]],
                  *, config: PreflightConfig | None = None, out_path: str | Path | None = None,
                  provenance: dict[str, Any] | None = None) -> PreflightResult:
    """Scan training rows for PHI, overlap with every suite and quality; decide; write JSON.

    `train_texts` is (row number, text) per training row; `eval_items` maps each suite to
    its (item_id, text). With `out_path` the result is written there atomically.
    """
    config = config or PreflightConfig()
    rows, items = _validate(train_texts, eval_items)
    phi = scan_rows(rows)
    overlap = find_overlap(rows, items, n=config.ngram)
    quality = check_quality(rows, max_row_chars=config.max_row_chars)
    contaminated = {suite: list(e["items"]) for suite, e in overlap.items() if e["items"]}

    reasons: list[str] = []
    warnings: list[str] = []
    if not rows:
        reasons.append("no training rows to check")
    phi_text = _phi_summary(phi)
    if phi_text:
        message = f"PHI in training data (preflight.phi={config.phi}): {phi_text}"
        (reasons if config.phi == "block" else warnings).append(message)
    n_contaminated = sum(len(v) for v in contaminated.values())
    if n_contaminated:
        detail = _overlap_summary(overlap, config.ngram)
        if config.overlap == "block":
            reasons.append(f"{_items(n_contaminated)} the training data "
                           f"(preflight.overlap=block): {detail}")
        else:
            warnings.append(f"{_items(n_contaminated)} the training data, removed from "
                            f"scoring (preflight.overlap=remove): {detail}")
    for key, label in (("duplicates", "duplicate"), ("empty", "empty"),
                       ("over_long", f"over {config.max_row_chars} characters")):
        entry = quality[key]
        if entry["count"]:
            warnings.append(f"{entry['count']} {label} training row{'s' if entry['count'] != 1 else ''} "
                            f"({_rows_text(entry['rows'], entry['count'])})")

    result = PreflightResult(
        passed=not reasons, reasons=reasons, warnings=warnings, phi=phi, overlap=overlap,
        contaminated=contaminated, quality=quality, policy=config.model_dump(mode="json"),
        rows=len(rows), sha256=_sha256(rows), provenance=provenance)
    if out_path is not None:
        result.path = write_preflight(result, out_path)
    return result


def write_preflight(result: PreflightResult, path: str | Path) -> Path:
    """Atomic write with every known secret redacted (provenance can carry a source URL)."""
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
    return write_text(path, redact(text))


def load_excluded(path: str | Path) -> dict[str, set[str]]:
    """From a written preflight.json: per suite, the items the evaluation must not score.

    A missing or unreadable file is an error, not "nothing to exclude": the caller asked
    because the run has a preflight, and scoring contaminated items would fail open.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"cannot read the data preflight ({exc})", where=str(path)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("contaminated"), dict):
        raise BadInputError("no 'contaminated' map: not a preflight.json", where=str(path))
    if data.get("overlap_action") != "remove":
        return {}
    return {str(s): {str(i) for i in ids} for s, ids in data["contaminated"].items()}
