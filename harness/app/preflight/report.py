"""The data gate: PHI, overlap and quality combined into a verdict and data/preflight.json.

The verdict follows the policy in `PreflightConfig`: PHI `warn` or `block`, overlap
`remove` (the contaminated items are dropped from scoring) or `block`. Row quality is
reported, never blocking. No training row makes the gate fail (nothing was checked, so
nothing may pass). Nothing raw leaves here: PHI values are masked and overlaps are named
by item id and row number only.

Every input of training is scanned: the main training rows, and the replay and
validation rows when training uses them (`extra_sources`); each finding names its input
(`train`, `replay`, `validation`) beside row numbers of that input's own file, and the
same policy applies to all of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.app.preflight.overlap import find_overlap
from harness.app.preflight.phi import scan_rows
from harness.app.preflight.quality import check_quality
from harness.app.preflight.sources import (
    ROLES,
    TrainingSource,
    merge_overlap,
    merge_phi,
    overlap_summary,
    phi_summary,
    rows_text,
)
from harness.core.atomic import write_text
from harness.core.config import PreflightConfig
from harness.core.errors import BadInputError
from harness.core.secrets import redact


@dataclass
class PreflightResult:
    """What the data gate decided and why; `to_dict()` is data/preflight.json."""

    passed: bool
    reasons: list[str]
    warnings: list[str]
    phi: dict[str, dict[str, Any]]
    overlap: dict[str, dict[str, Any]]
    contaminated: dict[str, list[str]]
    quality: dict[str, dict[str, Any]]
    policy: dict[str, Any]
    rows: dict[str, int]
    sha256: dict[str, str]
    provenance: dict[str, Any] | None = None
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
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
            "rows": self.rows,
            "sha256": self.sha256,
            "sources": self.sources,
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


def _items(n: int) -> str:
    return f"{n} evaluation item overlaps" if n == 1 else f"{n} evaluation items overlap"


def _sha256(rows: list[tuple[int, str]]) -> str:
    digest = hashlib.sha256()
    for row, text in rows:
        digest.update(json.dumps([row, text], ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def _checked_source(source: Any, index: int) -> TrainingSource:
    if not isinstance(source, TrainingSource) or source.role.split(":")[0] not in ROLES[1:]:
        raise BadInputError(f"extra source {index}: expected a TrainingSource with role "
                            f"{' or '.join(ROLES[1:])}", where="data preflight")
    rows, _ = _validate(source.rows, {})
    return TrainingSource(source.role, str(source.where), rows)


def run_preflight(train_texts: list[tuple[int, str]],
                  eval_items: dict[str, list[tuple[str, str]]],
                  *, config: PreflightConfig | None = None, out_path: str | Path | None = None,
                  provenance: dict[str, Any] | None = None,
                  extra_sources: Sequence[TrainingSource] = ()) -> PreflightResult:
    """Scan every training input for PHI, overlap with every suite and quality; decide;
    write JSON.

    `train_texts` is (row number, text) per main training row; `extra_sources` are the
    replay and validation rows training also reads; `eval_items` maps each suite to its
    (item_id, text). With `out_path` the result is written there atomically.
    """
    config = config or PreflightConfig()
    rows, items = _validate(train_texts, eval_items)
    where = str((provenance or {}).get("source") or "training data")
    sources = [TrainingSource("train", where, rows),
               *(_checked_source(s, i) for i, s in enumerate(extra_sources))]
    roles = [s.role for s in sources]
    if len(set(roles)) != len(roles):
        raise BadInputError(f"each input is scanned once, got roles {roles}",
                            where="data preflight")
    phi = merge_phi({s.role: scan_rows(s.rows) for s in sources})
    overlap = merge_overlap({s.role: find_overlap(s.rows, items, n=config.ngram)
                             for s in sources})
    quality = {s.role: check_quality(s.rows, max_row_chars=config.max_row_chars)
               for s in sources}
    contaminated = {suite: list(e["items"]) for suite, e in overlap.items() if e["items"]}

    reasons: list[str] = []
    warnings: list[str] = []
    if not rows:
        reasons.append("no training rows to check")
    phi_text = phi_summary(phi)
    if phi_text:
        message = f"PHI in training data (preflight.phi={config.phi}): {phi_text}"
        (reasons if config.phi == "block" else warnings).append(message)
    n_contaminated = sum(len(v) for v in contaminated.values())
    if n_contaminated:
        detail = overlap_summary(overlap, config.ngram)
        if config.overlap == "block":
            reasons.append(f"{_items(n_contaminated)} the training data "
                           f"(preflight.overlap=block): {detail}")
        else:
            warnings.append(f"{_items(n_contaminated)} the training data, removed from "
                            f"scoring (preflight.overlap=remove): {detail}")
    for source in sources:
        warnings += _quality_warnings(quality[source.role], source.role, config.max_row_chars)

    result = PreflightResult(
        passed=not reasons, reasons=reasons, warnings=warnings, phi=phi, overlap=overlap,
        contaminated=contaminated, quality=quality, policy=config.model_dump(mode="json"),
        rows={s.role: len(s.rows) for s in sources},
        sha256={s.role: _sha256(s.rows) for s in sources}, provenance=provenance,
        sources={s.role: {"where": s.where, "rows": len(s.rows)} for s in sources})
    if out_path is not None:
        result.path = write_preflight(result, out_path)
    return result


def _quality_warnings(quality: dict[str, Any], role: str, max_row_chars: int) -> list[str]:
    noun = "training" if role == "train" else role
    out = []
    for key, label in (("duplicates", "duplicate"), ("empty", "empty"),
                       ("over_long", f"over {max_row_chars} characters")):
        entry = quality[key]
        if entry["count"]:
            out.append(f"{entry['count']} {label} {noun} row{'s' if entry['count'] != 1 else ''} "
                       f"({rows_text(entry['rows'], entry['count'])})")
    return out


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
