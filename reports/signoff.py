"""Reviewer sign-offs bound to the evidence they approved.

A sign-off stores the sha256 of gate.json and of every records file as they were when the
reviewer decided. If any of them changes afterwards (a re-gate, a re-evaluation), the
sign-off no longer speaks for the evidence and is shown as stale; it is never silently
carried over. A sign-off records who decided, not a cryptographic signature.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.core.atomic import write_json
from harness.core.errors import BadInputError
from harness.core.io import file_sha256
from harness.core.rundir import RunDir
from harness.core.secrets import redact
from reports.rundata import is_run_dir

DECISIONS = ("approve", "reject")
# Roles that confirm documentation rather than clinical content.
REGULATORY_ROLE = re.compile(r"regulat|compliance|quality|\bqa\b|\bra\b", re.IGNORECASE)


def evidence_hashes(run: RunDir) -> dict[str, str]:
    """sha256 of gate.json and of every records file, by path relative to the run."""
    hashes: dict[str, str] = {}
    if run.gate.exists():
        hashes["gate.json"] = file_sha256(run.gate)
    if run.evals_dir.is_dir():
        for path in sorted(run.evals_dir.glob("*/*.records.jsonl")):
            hashes[path.relative_to(run.root).as_posix()] = file_sha256(path)
    return hashes


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return slug[:60] or "reviewer"


def record_signoff(root: str | Path, *, reviewer: str, role: str, decision: str,
                   note: str = "", now: datetime | None = None) -> Path:
    """Write signoffs/<time>-<reviewer>.json; refuses when there is no gate.json to sign."""
    root = Path(root)
    if not is_run_dir(root):
        raise BadInputError("not a medgate run directory", where=str(root))
    run = RunDir(root)
    if decision not in DECISIONS:
        raise BadInputError(f"--decision must be one of {', '.join(DECISIONS)}, got '{decision}'")
    if not reviewer.strip():
        raise BadInputError("--reviewer must not be empty")
    if not role.strip():
        raise BadInputError("--role must not be empty")
    if not run.gate.exists():
        raise BadInputError("no gate.json to sign: run `medgate gate` first", where=str(run.gate))
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    entry = {
        "reviewer": redact(reviewer.strip()),
        "role": redact(role.strip()),
        "decision": decision,
        "note": redact(note),
        "time": moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "evidence": evidence_hashes(run),
    }
    stem = f"{moment.strftime('%Y%m%dT%H%M%S%fZ')}-{_slug(reviewer)}"
    path = run.signoffs_dir / f"{stem}.json"
    return write_json(path, entry)


@dataclass
class SignoffStatus:
    path: Path
    reviewer: str
    role: str
    decision: str
    note: str
    time: str
    stale: bool
    changed: list[str]

    @property
    def fresh(self) -> bool:
        return not self.stale

    @property
    def regulatory(self) -> bool:
        return bool(REGULATORY_ROLE.search(self.role))

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.path.name, "reviewer": self.reviewer, "role": self.role,
                "decision": self.decision, "note": self.note, "time": self.time,
                "stale": self.stale, "changed": self.changed}


def read_signoffs(root: str | Path) -> list[SignoffStatus]:
    """Every sign-off, oldest first, each marked stale when its evidence changed."""
    run = RunDir(root)
    if not run.signoffs_dir.is_dir():
        return []
    current = evidence_hashes(run)
    found = []
    for path in sorted(run.signoffs_dir.glob("*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BadInputError(f"not valid JSON ({exc.msg})", where=f"{path}:{exc.lineno}") from exc
        if not isinstance(entry, dict):
            raise BadInputError("a sign-off must be a JSON object", where=str(path))
        for key in ("reviewer", "role", "decision", "time", "evidence"):
            if key not in entry:
                raise BadInputError(f"sign-off lacks '{key}'", where=str(path))
        signed = entry["evidence"] if isinstance(entry["evidence"], dict) else {}
        changed = sorted(k for k in set(signed) | set(current) if signed.get(k) != current.get(k))
        found.append(SignoffStatus(
            path=path, reviewer=str(entry["reviewer"]), role=str(entry["role"]),
            decision=str(entry["decision"]), note=str(entry.get("note") or ""),
            time=str(entry["time"]), stale=bool(changed) or not signed, changed=changed))
    return found


@dataclass
class ReviewState:
    """What the sign-offs add up to, for the checklist's person-confirmed items."""

    required: int
    approvals: list[SignoffStatus]
    rejections: list[SignoffStatus]
    stale: list[SignoffStatus]
    regulatory_approvals: list[SignoffStatus]

    @property
    def expert_review_passed(self) -> bool:
        return len(self.approvals) >= self.required and not self.rejections

    @property
    def roles(self) -> set[str]:
        return {s.role.lower() for s in self.approvals}


def review_state(signoffs: list[SignoffStatus], required: int) -> ReviewState:
    """Count fresh clinical approvals and rejections; stale sign-offs count for nothing."""
    fresh = [s for s in signoffs if s.fresh]
    clinical = [s for s in fresh if not s.regulatory]
    return ReviewState(
        required=required,
        approvals=[s for s in clinical if s.decision == "approve"],
        rejections=[s for s in fresh if s.decision == "reject"],
        stale=[s for s in signoffs if s.stale],
        regulatory_approvals=[s for s in fresh if s.regulatory and s.decision == "approve"],
    )
