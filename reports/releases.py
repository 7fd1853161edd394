"""The release registry: released versions of promoted runs, each pointing at the last.

A registry is a folder:

    registry/index.json               every release, oldest first (written atomically)
    registry/.medgate.lock            held while the index changes (two releases at once
                                      wait for each other, never interleave)
    registry/releases/<version>/      what the release stands on, copied out of the run:
        release.json                  version, verdict, evidence hashes, sign-offs,
                                      previous release, compatibility, what changed
        gate.json  manifest.json  promoted/lineage.json  signoffs/*.json
        evals/<tag>/                  the released model's records and summary
        report/                       the run's rendered documents at release time

A release folder is laid out like a run directory, so a gate or a comparison reads a
release's records exactly as it reads a run's (`medgate gate --baseline release:latest`).
It holds the evidence, not the weights: the weights stay in the run's promoted/ folder,
identified by the sha256 of every file in lineage.json, and publishing checks them.

Only a PROMOTEd, promoted run is released; a BLOCKed one is refused with its reasons.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gates.changelog import check_changelog
from gates.result import PROMOTE, read_gate
from harness.core.atomic import write_json
from harness.core.errors import EXIT_BLOCKED, BadInputError, MedgateError
from harness.core.io import file_sha256
from harness.core.lock import RunLock
from harness.core.rundir import RunDir
from reports.release_compat import (
    check_bump,
    compatibility_changes,
    interface_of,
    parse_version,
)
from reports.signoff import read_signoffs

INDEX_FORMAT = "medgate-registry/1"
RELEASE_FILE = "release.json"  # in a release folder, and in a released run (its pointer)
DEFAULT_REGISTRY = "registry"
REF_PREFIX = "release:"
LOCK_WAIT_S = 300.0  # another release copying its evidence: wait, do not refuse


class ReleaseRefused(MedgateError):
    """The run's gate verdict does not allow a release (exit 1, like a BLOCK)."""

    exit_code = EXIT_BLOCKED


@dataclass
class Release:
    """One entry of the index, and where its folder is."""

    entry: dict[str, Any]
    folder: RunDir

    @property
    def version(self) -> str:
        return str(self.entry["version"])

    @property
    def tag(self) -> str:
        return str(self.entry["tag"])

    def record(self) -> dict[str, Any]:
        """The folder's release.json (the index entry plus evidence and sign-offs)."""
        path = self.folder.root / RELEASE_FILE
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise BadInputError("release folder has no release.json: the registry is "
                                "damaged", where=str(path)) from exc
        except json.JSONDecodeError as exc:
            raise BadInputError(f"not valid JSON ({exc.msg})",
                                where=f"{path}:{exc.lineno}") from exc


class Registry:
    def __init__(self, root: str | Path = DEFAULT_REGISTRY) -> None:
        self.root = Path(root)
        self.index_path = self.root / "index.json"
        self.releases_dir = self.root / "releases"

    def lock(self) -> RunLock:
        return RunLock(self.root, timeout=LOCK_WAIT_S)

    def entries(self) -> list[dict[str, Any]]:
        """The index's releases, oldest first; a damaged index is bad input naming it."""
        if not self.index_path.exists():
            return []
        where = str(self.index_path)
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BadInputError(f"not valid JSON ({exc.msg})",
                                where=f"{where}:{exc.lineno}") from exc
        if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT \
                or not isinstance(data.get("releases"), list):
            raise BadInputError(f"not a release index (expected format '{INDEX_FORMAT}' and "
                                "a 'releases' list)", where=where)
        for i, entry in enumerate(data["releases"]):
            if not isinstance(entry, dict) or not {"version", "tag"} <= entry.keys():
                raise BadInputError("a release lacks 'version' or 'tag'",
                                    where=f"{where}: releases[{i}]")
        return data["releases"]

    def releases(self) -> list[Release]:
        return [Release(e, RunDir(self.releases_dir / str(e["version"])))
                for e in self.entries()]

    def latest(self) -> Release | None:
        found = self.releases()
        return found[-1] if found else None

    def get(self, version: str) -> Release:
        """A release by version, or `latest`."""
        found = self.releases()
        if version == "latest":
            if not found:
                raise BadInputError("no release registered yet", where=str(self.index_path))
            return found[-1]
        for release in found:
            if release.version == version:
                return release
        have = ", ".join(r.version for r in found) or "none"
        raise BadInputError(f"no release '{version}' (registered: {have})",
                            where=str(self.index_path))

    def chain(self, version: str | None = None) -> list[dict[str, Any]]:
        """The releases up to `version` (all when None) following `previous`, oldest first."""
        by_version = {r.version: r for r in self.releases()}
        current = by_version.get(version) if version else self.latest()
        out: list[dict[str, Any]] = []
        while current is not None:
            out.append(current.entry)
            previous = current.entry.get("previous")
            current = by_version.get(previous) if previous else None
        return out[::-1]

    def _write_index(self, releases: list[dict[str, Any]]) -> None:
        write_json(self.index_path, {"format": INDEX_FORMAT, "releases": releases})


def is_release_ref(text: str | None) -> bool:
    return bool(text) and str(text).startswith(REF_PREFIX)


def resolve_ref(ref: str, registry: str | Path = DEFAULT_REGISTRY) -> Release:
    """`release:latest` or `release:1.0.0` as the release it names."""
    version = ref[len(REF_PREFIX):].strip()
    if not version:
        raise BadInputError(f"'{ref}': name a version (release:1.0.0) or release:latest")
    release = Registry(registry).get(version)
    if not release.folder.eval_dir(release.tag).is_dir():
        raise BadInputError(f"release {release.version} has no records for "
                            f"'{release.tag}': the registry is damaged",
                            where=str(release.folder.eval_dir(release.tag)))
    return release


def _refuse_unless_promoted(run: RunDir) -> tuple[Any, dict[str, Any]]:
    """The run's gate result and promoted lineage, or why it cannot be released."""
    gate = read_gate(run.gate)
    if gate.verdict != PROMOTE or not gate.selected:
        reasons = "; ".join(gate.reasons) or "no checkpoint was selected"
        raise ReleaseRefused(f"{run.root}: gate verdict is {gate.verdict}, only a PROMOTEd run "
                             f"is released: {reasons}")
    lineage_path = run.promoted_dir / "lineage.json"
    if not lineage_path.is_file():
        raise BadInputError("the run was not promoted (no promoted/lineage.json)",
                            where=str(run.root))
    lineage = json.loads(lineage_path.read_text(encoding="utf-8"))
    bound = (lineage.get("gate") or {}).get("sha256")
    if bound != file_sha256(run.gate):
        raise ReleaseRefused(f"{run.gate}: changed since the model was promoted (lineage.json "
                             "is bound to another gate.json); promote again before releasing")
    if lineage.get("promoted_tag") != gate.selected:
        raise ReleaseRefused(f"{lineage_path}: promoted '{lineage.get('promoted_tag')}' but "
                             f"gate.json selects '{gate.selected}'")
    return gate, lineage


def _data_hashes(run: RunDir, tag: str) -> dict[str, Any]:
    """Training data hashes from the preflight, evaluation data hashes from the summaries."""
    train = None
    if run.preflight.is_file():
        try:
            train = json.loads(run.preflight.read_text(encoding="utf-8")).get("sha256")
        except json.JSONDecodeError as exc:
            raise BadInputError(f"not valid JSON ({exc.msg})",
                                where=f"{run.preflight}:{exc.lineno}") from exc
    summary_file = run.eval_dir(tag) / "summary.json"
    evals = {}
    if summary_file.is_file():
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        evals = {suite: (s.get("info") or {}).get("data_sha256")
                 for suite, s in summary.items() if isinstance(s, dict)}
    return {"training": train, "evaluation": evals}


def _data_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Which data the release was trained or evaluated on differs from the previous one's."""
    if old is None:
        return []
    changes = []
    old_train, new_train = old.get("training") or {}, new.get("training") or {}
    for role in sorted(set(old_train) | set(new_train)):
        if old_train.get(role) != new_train.get(role):
            changes.append(f"training data '{role}'")
    old_eval, new_eval = old.get("evaluation") or {}, new.get("evaluation") or {}
    for suite in sorted(set(old_eval) | set(new_eval)):
        if old_eval.get(suite) != new_eval.get(suite):
            changes.append(f"evaluation data of suite '{suite}'")
    return changes


def _stage(run: RunDir, tag: str, staging: Path) -> dict[str, str]:
    """Copy what the release stands on; returns the sha256 of every copied file."""
    shutil.copytree(run.eval_dir(tag), staging / "evals" / tag)
    for name in ("gate.json", "manifest.json", "config.resolved.yaml", "data/preflight.json"):
        if (run.root / name).is_file():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(run.root / name, staging / name)
    (staging / "promoted").mkdir()
    shutil.copy2(run.promoted_dir / "lineage.json", staging / "promoted" / "lineage.json")
    for folder in ("signoffs", "report"):
        if (run.root / folder).is_dir():
            shutil.copytree(run.root / folder, staging / folder,
                            ignore=shutil.ignore_patterns(".*"))
    return {p.relative_to(staging).as_posix(): file_sha256(p)
            for p in sorted(staging.rglob("*")) if p.is_file()}


def register(registry: Registry, run: RunDir, version: str, *,
             knowledge_cutoff: str | None = None, notes: str | None = None,
             before_copy: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Release the run's promoted model as `version`; returns the release record.

    Under the registry's lock: refuse a run that was not PROMOTEd and promoted; refuse a
    version that exists or does not come after the latest; detect whether the release is
    backward compatible with the previous one (a major bump when not); copy the evidence
    into a staging folder renamed into place; then write the index. `before_copy(record)`
    runs before the copy (the command writes the run's release pointer and re-renders its
    documents there, so the copied documents show this release).
    """
    new = parse_version(version)
    if knowledge_cutoff is not None:
        _check_date(knowledge_cutoff)
    if not run.root.is_dir():
        raise BadInputError("run directory not found", where=str(run.root))
    gate, lineage = _refuse_unless_promoted(run)
    tag = str(gate.selected)
    with registry.lock():
        entries = registry.entries()
        if any(str(e["version"]) == new.text for e in entries):
            raise BadInputError(f"version {new} is already released",
                                where=str(registry.index_path))
        previous = registry.latest()
        interface = interface_of(run, tag)
        changes: list[str] = []
        changelog: list[dict[str, Any]] = []
        if previous is not None:
            prev_record = previous.record()
            changes = compatibility_changes(previous.folder, previous.tag,
                                            prev_record["interface"], run, tag, interface)
            check_bump(parse_version(previous.version, where=str(registry.index_path)), new,
                       changes)
            changelog = [c.as_dict() for c in
                         check_changelog(read_gate(previous.folder.gate), gate)]
        data = _data_hashes(run, tag)
        entry = {
            "version": new.text,
            "released_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "run_dir": str(run.root.resolve()),
            "run_id": run.root.resolve().name,
            "tag": tag,
            "verdict": gate.verdict,
            "gate_sha256": file_sha256(run.gate),
            "policy": gate.policy.model_dump(mode="json"),
            "knowledge_cutoff": knowledge_cutoff,
            "notes": notes,
            "previous": previous.version if previous else None,
            "base_fingerprint": lineage.get("base_fingerprint"),
            "data": data,
            "data_changed": _data_changes(previous.entry.get("data") if previous else None,
                                          data),
            "backward_compatible": not changes,
            "incompatible_changes": changes,
            "checks_newly_pass": [c["name"] for c in changelog if c["change"] == "newly passes"],
            "checks_newly_fail": [c["name"] for c in changelog if c["change"] == "newly fails"],
        }
        record = {
            **entry,
            "registry": str(registry.root.resolve()),
            "interface": interface,
            "checks_changed": changelog,
            "signoffs": [s.as_dict() for s in read_signoffs(run.root)],
            "model_files": {"adapter": (lineage.get("adapter") or {}).get("files"),
                            "merged": (lineage.get("merged") or {}).get("files")},
            "chain": [*(registry.chain(previous.version) if previous else []), entry],
        }
        if before_copy is not None:
            before_copy(record)
        final = registry.releases_dir / new.text
        staging = registry.releases_dir / f".{new.text}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            record["evidence"] = _stage(run, tag, staging)
            write_json(staging / RELEASE_FILE, record)
            if final.exists():  # left by a release whose index write never happened
                shutil.rmtree(final)
            staging.rename(final)
            registry._write_index([*entries, entry])
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if not any(str(e["version"]) == new.text for e in registry.entries()):
                shutil.rmtree(final, ignore_errors=True)
            raise
    return record


def write_run_pointer(run: RunDir, record: dict[str, Any]) -> Path:
    """RUN/release.json: which release the run became, with the chain of releases up to it,
    so the run's own documents (model card, export bundle) show its lineage."""
    return write_json(run.root / RELEASE_FILE,
                      {"version": record["version"], "registry": record["registry"],
                       "chain": record["chain"]})


def read_run_pointer(run: RunDir) -> dict[str, Any] | None:
    """The run's release pointer, or None for a run that was never released."""
    path = run.root / RELEASE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON ({exc.msg})", where=f"{path}:{exc.lineno}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("chain"), list):
        raise BadInputError("not a release pointer (no 'chain' list)", where=str(path))
    return data


def _check_date(text: str) -> None:
    try:
        time.strptime(text, "%Y-%m-%d")
    except ValueError as exc:
        raise BadInputError(f"'{text}' is not a date (YYYY-MM-DD)",
                            where="--knowledge-cutoff") from exc
