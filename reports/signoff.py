"""Reviewer sign-offs bound to the evidence they approved.

A sign-off stores the sha256 of gate.json and of every records file as they were when the
reviewer decided. If any of them changes afterwards (a re-gate, a re-evaluation), the
sign-off no longer speaks for the evidence and is shown as stale; it is never silently
carried over. A sign-off records who decided, not a cryptographic signature.

The expert review asks for N medical professionals, so it counts people, not files: each
reviewer (by normalised name) counts once, with their latest decision (a later reject
withdraws an earlier approval), and only when their role is one of the configured medical
roles (`report.medical_roles`); any other role is on record but does not count.

Once a review sample has been drawn (`medgate review sample`), an approval counts only
from a reviewer whose imported review covers the whole sample (reports.review_status):
approving what one has not read is on record, and counts for nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gates.review import normalise_reviewer
from harness.core.atomic import write_json
from harness.core.config import DEFAULT_MEDICAL_ROLES
from harness.core.errors import BadInputError
from harness.core.io import file_sha256
from harness.core.rundir import RunDir
from harness.core.secrets import redact
from reports.review_status import ReviewProgress
from reports.rundata import is_run_dir

DECISIONS = ("approve", "reject")
# Roles that confirm documentation rather than clinical content.
REGULATORY_ROLE = re.compile(r"regulat|compliance|quality|\bqa\b|\bra\b", re.IGNORECASE)


def normalise_role(role: str) -> str:
    """A role as compared with the configured list: case and spacing ignored."""
    return " ".join(role.split()).casefold()


def is_medical_role(role: str, medical_roles: Iterable[str]) -> bool:
    return normalise_role(role) in {normalise_role(r) for r in medical_roles}


def is_regulatory_role(role: str) -> bool:
    return bool(REGULATORY_ROLE.search(role))


def medical_roles(config: Mapping[str, Any] | None, where: str = "config.resolved.yaml"
                  ) -> tuple[str, ...]:
    """`report.medical_roles` of a run's resolved config; the default list for a run whose
    config predates the key. A malformed list is an error, never an empty list."""
    report = (config or {}).get("report") if isinstance(config, Mapping) else None
    if not isinstance(report, Mapping) or "medical_roles" not in report:
        return DEFAULT_MEDICAL_ROLES
    roles = report["medical_roles"]
    if (not isinstance(roles, list) or not roles
            or not all(isinstance(r, str) and r.strip() for r in roles)):
        raise BadInputError("key 'report.medical_roles' must be a non-empty list of role names",
                            where=where)
    return tuple(" ".join(r.split()) for r in roles)


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
        return is_regulatory_role(self.role)

    @property
    def reviewer_key(self) -> str:
        return normalise_reviewer(self.reviewer)

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
    """What the sign-offs add up to, for the checklist's person-confirmed items.

    `approvals`, `rejections` and `regulatory_approvals` hold one sign-off per reviewer:
    their latest, when it is fresh. `not_counted` are fresh approvals by reviewers whose
    role is neither medical nor regulatory; `superseded` are earlier sign-offs replaced by
    the same reviewer's later one.
    """

    required: int
    approvals: list[SignoffStatus]
    rejections: list[SignoffStatus]
    stale: list[SignoffStatus]
    regulatory_approvals: list[SignoffStatus]
    medical_roles: tuple[str, ...] = DEFAULT_MEDICAL_ROLES
    not_counted: list[SignoffStatus] = field(default_factory=list)
    superseded: list[SignoffStatus] = field(default_factory=list)
    # Medical approvals by reviewers who did not review the whole sample, and the progress
    # of every reviewer on it (None: the caller did not look at reviews).
    unreviewed: list[SignoffStatus] = field(default_factory=list)
    progress: ReviewProgress | None = None

    @property
    def expert_review_passed(self) -> bool:
        return len(self.approvals) >= self.required and not self.rejections

    @property
    def roles(self) -> set[str]:
        return {s.role.lower() for s in self.approvals}


def latest_by_reviewer(signoffs: list[SignoffStatus]) -> dict[str, SignoffStatus]:
    """Each reviewer's latest sign-off (by time, then file name: files are time-stamped)."""
    latest: dict[str, SignoffStatus] = {}
    for s in sorted(signoffs, key=lambda s: (s.time, s.path.name)):
        latest[s.reviewer_key] = s
    return latest


def _read_the_sample(s: SignoffStatus, progress: ReviewProgress | None) -> bool:
    if progress is None or not progress.drawn:
        return True
    mine = progress.of(s.reviewer)
    return mine is not None and mine.complete


def review_state(signoffs: list[SignoffStatus], required: int,
                 medical_roles: Iterable[str] = DEFAULT_MEDICAL_ROLES,
                 progress: ReviewProgress | None = None) -> ReviewState:
    """Count distinct reviewers by their latest fresh decision; stale sign-offs count for
    nothing, only the configured medical roles count toward the expert review, and, once
    a review sample was drawn, only reviewers who reviewed all of it."""
    roles = tuple(medical_roles)
    latest = latest_by_reviewer(signoffs)
    counted = [s for s in latest.values() if s.fresh]
    approved = [s for s in counted if s.decision == "approve"]
    kept = {id(s) for s in latest.values()}
    medical = [s for s in approved if is_medical_role(s.role, roles)]
    return ReviewState(
        required=required,
        approvals=[s for s in medical if _read_the_sample(s, progress)],
        unreviewed=[s for s in medical if not _read_the_sample(s, progress)],
        progress=progress,
        rejections=[s for s in counted if s.decision == "reject"],
        stale=[s for s in signoffs if s.stale],
        regulatory_approvals=[s for s in approved
                              if s.regulatory and not is_medical_role(s.role, roles)],
        medical_roles=roles,
        not_counted=[s for s in approved
                     if not s.regulatory and not is_medical_role(s.role, roles)],
        superseded=[s for s in signoffs if id(s) not in kept],
    )
