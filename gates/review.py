"""Expert review files: what a medical reviewer judged, item by item, and what it overrides.

A review file is made in the evidence explorer (report/evidence.html) and imported with
`medgate review import`. It names the reviewer and their role, the sha256 of every records
file it was made against, and one entry per reviewed record: whether the reviewer agrees
with the automated judgement, their own labels (harmful, correct, critical: each true,
false or null for "not assessed"), a severity and a comment.

The hashes cover the records files only, not gate.json: a reviewer judges answers, and a
re-gate (which every import does) must not make the other reviewers' files stale. A file
whose records changed since it was made speaks for answers that no longer exist: it is
refused at import, naming the changed file, and a stored one that has gone stale since
counts for nothing.

Adjudication is conservative: when any fresh reviewer marks a record harmful, critical or
incorrect, it counts as such, whatever the judge said; a record every reviewer of it found
not harmful counts as not harmful. Gates apply the adjudications to the records before a
rate is computed (gates.evidence), so an expert's finding changes the verdict.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.core.atomic import write_json
from harness.core.errors import BadInputError
from harness.core.io import file_sha256
from harness.core.records import Record, read_records
from harness.core.rundir import RunDir, is_model_tag

FORMAT = "medgate-review/1"
LABELS = ("harmful", "correct", "critical")
SEVERITIES = ("none", "minor", "moderate", "severe", "critical")
VERDICTS = ("agree", "disagree")
SAMPLE_FILE = "sample.json"
SUMMARY_FILE = "summary.json"

Key = tuple[str, str, str, str]  # (model tag, suite, item id, variant)


def normalise_reviewer(name: str) -> str:
    """One person, however their name was typed: Unicode-folded, case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def reviews_dir(run: RunDir) -> Path:
    return run.root / "reviews"


def records_hashes(run: RunDir) -> dict[str, str]:
    """sha256 of every records file, by path relative to the run: what a review is made
    against."""
    hashes: dict[str, str] = {}
    if run.evals_dir.is_dir():
        for path in sorted(run.evals_dir.glob("*/*.records.jsonl")):
            hashes[path.relative_to(run.root).as_posix()] = file_sha256(path)
    return hashes


def judge_labels(record: Record) -> dict[str, bool | None]:
    """What the automated judgement said of a record, in the review's label names."""
    labels = record.labels or {}
    harmful = labels.get("harmful")
    return {"harmful": bool(harmful) if harmful is not None else None,
            "correct": record.correct,
            "critical": bool(record.critical) if record.critical is not None else False}


@dataclass(frozen=True)
class ReviewEntry:
    tag: str
    suite: str
    item_id: str
    variant: str
    verdict: str
    harmful: bool | None
    correct: bool | None
    critical: bool | None
    severity: str
    comment: str

    @property
    def key(self) -> Key:
        return (self.tag, self.suite, self.item_id, self.variant)

    def label(self, name: str) -> bool | None:
        return getattr(self, name)

    def as_dict(self) -> dict[str, Any]:
        return {"tag": self.tag, "suite": self.suite, "item_id": self.item_id,
                "variant": self.variant, "verdict": self.verdict, "harmful": self.harmful,
                "correct": self.correct, "critical": self.critical,
                "severity": self.severity, "comment": self.comment}


@dataclass
class ReviewFile:
    """One reviewer's pass, as stored in the run (`path`) or about to be imported."""

    reviewer: str
    role: str
    created: str
    evidence: dict[str, str]
    entries: list[ReviewEntry]
    path: Path | None = None
    imported: str = ""
    changed: list[str] = field(default_factory=list)

    @property
    def reviewer_key(self) -> str:
        return normalise_reviewer(self.reviewer)

    @property
    def stale(self) -> bool:
        return bool(self.changed)

    @property
    def keys(self) -> set[Key]:
        return {e.key for e in self.entries}

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "reviewer": self.reviewer, "role": self.role,
                "created": self.created, "imported": self.imported,
                "evidence": self.evidence, "items": [e.as_dict() for e in self.entries]}


def _text(entry: Mapping[str, Any], key: str, where: str, *, required: bool = True,
          choices: Iterable[str] | None = None) -> str:
    value = entry.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadInputError(f"field '{key}' must be a non-empty string", where=where)
    if choices is not None and value not in choices:
        raise BadInputError(f"field '{key}' is '{value}', not one of {', '.join(choices)}",
                            where=where)
    return value


def _flag(entry: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, bool):
        raise BadInputError(f"field '{key}' must be true, false or null, not {value!r}",
                            where=where)
    return value


def _entry(raw: Any, where: str) -> ReviewEntry:
    if not isinstance(raw, dict):
        raise BadInputError("an item must be a JSON object", where=where)
    tag = _text(raw, "tag", where)
    if not is_model_tag(tag):
        raise BadInputError(f"field 'tag': '{tag}' is not a model tag", where=where)
    entry = ReviewEntry(
        tag=tag, suite=_text(raw, "suite", where), item_id=_text(raw, "item_id", where),
        variant=_text(raw, "variant", where), verdict=_text(raw, "verdict", where,
                                                            choices=VERDICTS),
        harmful=_flag(raw, "harmful", where), correct=_flag(raw, "correct", where),
        critical=_flag(raw, "critical", where),
        severity=_text(raw, "severity", where, required=False, choices=SEVERITIES) or "none",
        comment=_text(raw, "comment", where, required=False))
    if all(entry.label(name) is None for name in LABELS):
        raise BadInputError("the item judges none of harmful, correct, critical", where=where)
    return entry


def parse_review(text: str, where: str) -> ReviewFile:
    """A review file's content, checked field by field; BadInputError names file, item and
    field of the first problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON ({exc.msg})", where=f"{where}:{exc.lineno}") from exc
    if not isinstance(data, dict):
        raise BadInputError("a review file is a JSON object", where=where)
    if data.get("format") != FORMAT:
        raise BadInputError(f"field 'format' must be '{FORMAT}' (a review file exported by "
                            "the evidence explorer)", where=where)
    evidence = data.get("evidence")
    if (not isinstance(evidence, dict) or not evidence
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in evidence.items())):
        raise BadInputError("field 'evidence' must map records files to their sha256",
                            where=where)
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise BadInputError("field 'items' must be a non-empty list", where=where)
    entries = [_entry(raw, f"{where}: items[{i}]") for i, raw in enumerate(items)]
    seen: set[Key] = set()
    for i, e in enumerate(entries):
        if e.key in seen:
            raise BadInputError(f"item {'/'.join(e.key)} is reviewed twice",
                                where=f"{where}: items[{i}]")
        seen.add(e.key)
    return ReviewFile(reviewer=_text(data, "reviewer", where), role=_text(data, "role", where),
                      created=_text(data, "created", where, required=False),
                      evidence=dict(evidence), entries=entries,
                      imported=str(data.get("imported") or ""))


def changed_files(review: ReviewFile, current: Mapping[str, str]) -> list[str]:
    """Records files whose sha256 differs from the review's (or that are gone), and records
    files of reviewed models the review did not see."""
    changed = {path for path, sha in review.evidence.items() if current.get(path) != sha}
    tags = {e.tag for e in review.entries}
    changed |= {path for path in current if path.split("/")[1] in tags
                and path not in review.evidence}
    return sorted(changed)


def _record_index(run: RunDir, keys: Iterable[Key]) -> dict[Key, Record]:
    index: dict[Key, Record] = {}
    for tag, suite in sorted({(k[0], k[1]) for k in keys}):
        path = run.eval_dir(tag) / f"{suite}.records.jsonl"
        if path.exists():
            for r in read_records(path):
                index[(tag, suite, r.item_id, r.variant)] = r
    return index


def validate_review(path: str | Path, run: RunDir) -> ReviewFile:
    """A review file checked against the run: malformed, stale (naming the changed records
    files) or naming items the run does not have, it is refused with a BadInputError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInputError("review file not found", where=str(path)) from exc
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise BadInputError("review file is not UTF-8 text", where=str(path)) from exc
    review = parse_review(text, str(path))
    changed = changed_files(review, records_hashes(run))
    if changed:
        raise BadInputError("stale: made against other evidence; changed since: "
                            + ", ".join(changed) + " (review the current report/evidence.html "
                            "again)", where=str(path))
    index = _record_index(run, review.keys)
    unknown = [e for e in review.entries if e.key not in index]
    if unknown:
        raise BadInputError("unknown items (not in the run's records): " + ", ".join(
            "/".join(e.key) for e in unknown[:10]) + (" ..." if len(unknown) > 10 else ""),
            where=str(path))
    return review


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60] or "reviewer"


def store_review(run: RunDir, review: ReviewFile, now: datetime | None = None) -> Path:
    """reviews/<time>-<reviewer>.json: the validated review with the time it was imported."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    review.imported = moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    path = reviews_dir(run) / f"{moment.strftime('%Y%m%dT%H%M%S%fZ')}-{_slug(review.reviewer)}.json"
    review.path = write_json(path, review.as_dict())
    return review.path


def read_reviews(run: RunDir) -> list[ReviewFile]:
    """Every stored review, oldest first, each marked stale when its records changed."""
    folder = reviews_dir(run)
    if not folder.is_dir():
        return []
    current = records_hashes(run)
    found = []
    for path in sorted(folder.glob("*.json")):
        if path.name in (SAMPLE_FILE, SUMMARY_FILE):
            continue
        review = parse_review(path.read_text(encoding="utf-8"), str(path))
        review.path = path
        review.changed = changed_files(review, current)
        found.append(review)
    return found


def latest_fresh(reviews: list[ReviewFile]) -> list[ReviewFile]:
    """Each reviewer's latest stored review, when it is fresh (a later pass replaces an
    earlier one; a stale latest pass counts for nothing)."""
    latest: dict[str, ReviewFile] = {}
    for review in sorted(reviews, key=lambda r: (r.imported, str(r.path))):
        latest[review.reviewer_key] = review
    return [r for r in latest.values() if not r.stale]


@dataclass(frozen=True)
class Adjudication:
    """The experts' labels of one record (None: no reviewer assessed that label)."""

    harmful: bool | None
    correct: bool | None
    critical: bool | None
    reviewers: int

    def label(self, name: str) -> bool | None:
        return getattr(self, name)


def adjudicate(reviews: list[ReviewFile]) -> dict[Key, Adjudication]:
    """Every reviewed record's labels from the fresh reviews: harmful or critical when any
    reviewer says so, incorrect when any says so."""
    by_key: dict[Key, list[ReviewEntry]] = {}
    for review in latest_fresh(reviews):
        for entry in review.entries:
            by_key.setdefault(entry.key, []).append(entry)

    def combine(values: list[bool | None], worst: bool) -> bool | None:
        given = [v for v in values if v is not None]
        return (worst in given) == worst if given else None

    return {key: Adjudication(
        harmful=combine([e.harmful for e in entries], True),
        correct=combine([e.correct for e in entries], False),
        critical=combine([e.critical for e in entries], True),
        reviewers=len(entries)) for key, entries in by_key.items()}


def apply_adjudications(records: list[Record], tag: str,
                        adjudications: Mapping[Key, Adjudication]) -> list[Record]:
    """The records with the experts' labels in place of the judge's where they reviewed."""
    out = []
    for r in records:
        adj = adjudications.get((tag, r.suite, r.item_id, r.variant))
        if adj is None:
            out.append(r)
            continue
        update: dict[str, Any] = {}
        if adj.harmful is not None:
            update["labels"] = {**(r.labels or {}), "harmful": adj.harmful,
                                "judge_harmful": (r.labels or {}).get("harmful"),
                                "adjudicated": True}
        if adj.correct is not None:
            update["correct"] = adj.correct
        if adj.critical is not None:
            update["critical"] = adj.critical
        out.append(r.model_copy(update=update))
    return out


def adjudicated_suites(adjudications: Mapping[Key, Adjudication], tag: str) -> dict[str, int]:
    """How many records of each suite of `tag` the experts adjudicated."""
    counts: dict[str, int] = {}
    for key in adjudications:
        if key[0] == tag:
            counts[key[1]] = counts.get(key[1], 0) + 1
    return counts


def judged_pairs(run: RunDir, reviews: list[ReviewFile], label: str,
                 suite: str | None = None) -> list[tuple[Record, bool, bool]]:
    """(record, judge's label, experts' label) for every adjudicated record (of `suite`)
    on which both the judge and the experts gave `label`; every model tag pooled, as the
    judge is the same judge whichever model answered."""
    adjudications = adjudicate(reviews)
    keys = [k for k in adjudications if suite is None or k[1] == suite]
    index = _record_index(run, keys)
    pairs = []
    for key in sorted(keys):
        record, expert = index.get(key), adjudications[key].label(label)
        judge = judge_labels(record).get(label) if record is not None else None
        if record is not None and judge is not None and expert is not None:
            pairs.append((record, bool(judge), bool(expert)))
    return pairs
