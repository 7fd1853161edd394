"""The regulatory export bundle and its verification.

The bundle is a zip that mirrors the run directory (so the report pages' links work
inside it) plus provenance, package versions, the risk register and the traceability
table, PDF renderings of the model card and the checklist, the chain of releases when
the run was released (release.json), and MANIFEST.sha256.json with the sha256 of every
other file.

Members are stored uncompressed with fixed timestamps and attributes, so the same
content always gives the same bytes. `verify_bundle` checks every member's CRC and
sha256 and then rebuilds the zip from the verified content and compares it byte for
byte; a changed byte anywhere (data, headers, directory) is reported with the member it
belongs to. zipfile is used rather than a signing tool because a reviewer can check the
manifest with nothing but `sha256sum`.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.core.atomic import write_bytes
from harness.core.errors import BadInputError
from harness.core.manifest import package_versions
from reports import traceability
from reports.pdf import find_chromium, print_to_pdf
from reports.render import render_all
from reports.rundata import load_run
from reports.signoff import read_signoffs

MANIFEST = "MANIFEST.sha256.json"
PDF_PAGES = ("model_card", "checklist")  # the documents a regulator files on paper
_MODE = 0o100644 << 16  # regular file, rw-r--r--


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip_bytes(entries: list[tuple[str, bytes]], date_time: tuple[int, ...]) -> bytes:
    """Deterministic zip: given order, stored, fixed time, attributes and creator."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = _MODE
            info.create_system = 3
            zf.writestr(info, data)
    return buf.getvalue()


def _package_versions(manifest: dict[str, Any] | None) -> dict[str, Any]:
    if manifest and isinstance(manifest.get("packages"), dict):
        return {"source": "manifest.json of the run", "packages": manifest["packages"],
                "environment": manifest.get("environment")}
    return {"source": "installed at export time (the run wrote no manifest.json)",
            "packages": package_versions()}


def _provenance(data: Any) -> dict[str, Any]:
    cfg = data.config
    return {
        "model": {k: v for k, v in (cfg.get("model") or {}).items()},
        "fingerprints": (data.manifest or {}).get("fingerprints") or {},
        "training_data": {"config": cfg.get("dataset"), "preflight": data.preflight},
        "evaluation_data": {s: {**data.suite_info(s).model_dump(mode="json", exclude_unset=True),
                                "demo": data.is_demo(s), "tags": list(data.suite_tags(s))}
                            for s in data.suites()},
        "demo_suites": data.demo_suites(),
        "missing_evidence": data.missing,
    }


def _run_files(root: Path) -> list[Path]:
    """Run files that document the run; weights and checkpoints are identified by hash instead."""
    picks = ["config.resolved.yaml", "gate.json", "manifest.json", "data/preflight.json",
             "train/history.json", "train/train.log", "release.json"]
    files = [root / p for p in picks if (root / p).is_file()]
    files += sorted((root / "evals").glob("*/*.records.jsonl"))
    files += sorted((root / "evals").glob("*/summary.json"))
    files += sorted((root / "signoffs").glob("*.json"))
    files += sorted(p for p in (root / "report").glob("*") if p.is_file() and not p.name.startswith("."))
    return files


def build_bundle(root: str | Path, out: str | Path, *, now: datetime | None = None) -> Path:
    """Re-render the reports and write the bundle zip to `out`."""
    root = Path(root)
    data = load_run(root)
    rendered = render_all(root)
    items = rendered.items
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    entries: dict[str, bytes] = {}
    for path in _run_files(root):
        entries[path.relative_to(root).as_posix()] = path.read_bytes()

    def add_json(name: str, obj: Any) -> None:
        entries[name] = (json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n").encode()

    add_json("provenance.json", _provenance(data))
    add_json("packages.json", _package_versions(data.manifest))
    add_json("risk_register.json", {"risks": traceability.risk_rows(items)})
    add_json("traceability.json", {"rows": traceability.traceability(items)})
    add_json("signoffs.json", {"required": rendered.review.required,
                               "signoffs": [s.as_dict() for s in read_signoffs(root)]})
    entries["traceability.md"] = _traceability_md(traceability.traceability(items)).encode()
    pdf = _pdfs(root, entries)
    names = sorted(entries)
    date_time = (moment.year, moment.month, moment.day, moment.hour, moment.minute,
                 moment.second - moment.second % 2)
    manifest = {"format": "medgate-bundle/1", "created": moment.isoformat(timespec="seconds"),
                "run_id": root.resolve().name, "zip_date_time": list(date_time),
                "verdict": data.verdict, "demo_suites": data.demo_suites(), "pdf": pdf,
                "files": {n: _sha(entries[n]) for n in names}}
    manifest_bytes = (json.dumps(manifest, indent=2) + "\n").encode()
    blob = _zip_bytes([(n, entries[n]) for n in names] + [(MANIFEST, manifest_bytes)], date_time)
    return write_bytes(out, blob)


def _pdfs(root: Path, entries: dict[str, bytes]) -> dict[str, Any]:
    """report/<page>.pdf for the model card and the checklist, printed by Chromium; without
    Chromium the manifest says they are missing and why (the export still documents the
    run in HTML)."""
    chromium = find_chromium()
    if chromium is None:
        return {"rendered": [], "missing": list(PDF_PAGES),
                "reason": "no Chromium found (chromium, chromium-browser, google-chrome)"}
    for page in PDF_PAGES:
        entries[f"report/{page}.pdf"] = print_to_pdf(root / "report" / f"{page}.html", chromium)
    return {"rendered": [f"report/{p}.pdf" for p in PDF_PAGES], "missing": [],
            "by": "headless Chromium print-to-PDF of the HTML page"}


def _traceability_md(rows: list[dict[str, Any]]) -> str:
    lines = ["# Traceability", "", "| framework | item | description | files | status / note |",
             "| --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['framework']} | {r['id']} | {r['title']} | "
                     f"{', '.join(r['files']) or '—'} | {r.get('status', '')} {r['note']} |")
    return "\n".join(lines) + "\n"


def bundle_manifest(bundle: str | Path) -> dict[str, Any]:
    """The bundle's MANIFEST.sha256.json."""
    with zipfile.ZipFile(bundle) as zf:
        return json.loads(zf.read(MANIFEST))


@dataclass
class Verification:
    bundle: Path
    problems: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _region_owner(raw: bytes, zf: zipfile.ZipFile, offset: int) -> str:
    """Which member (or which part of the zip) the byte at `offset` belongs to."""
    infos = sorted(zf.infolist(), key=lambda i: i.header_offset)
    start_dir = zf.start_dir  # type: ignore[attr-defined]
    for k, info in enumerate(infos):
        end = infos[k + 1].header_offset if k + 1 < len(infos) else start_dir
        if info.header_offset <= offset < end:
            return f"{info.filename} (local header or data)"
    pos = start_dir
    for info in zf.infolist():
        size = 46 + len(info.filename.encode()) + len(info.extra) + len(info.comment)
        if pos <= offset < pos + size:
            return f"{info.filename} (central directory entry)"
        pos += size
    return "zip end-of-directory record" if offset < len(raw) else "end of file (length changed)"


def verify_bundle(bundle: str | Path) -> Verification:
    """Check a bundle; every problem names the file it concerns."""
    bundle = Path(bundle)
    if not bundle.is_file():
        raise BadInputError("bundle not found", where=str(bundle))
    result = Verification(bundle=bundle)
    raw = bundle.read_bytes()
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except Exception as exc:  # noqa: BLE001 - any failure to parse is a damaged bundle
        result.problems.append(f"{bundle.name}: zip structure damaged ({exc})")
        return result
    contents: dict[str, bytes] = {}
    order: list[str] = []
    for info in zf.infolist():
        if info.filename in contents:
            result.problems.append(f"{info.filename}: appears twice in the zip")
            continue
        try:
            contents[info.filename] = zf.read(info)
            order.append(info.filename)
        except Exception as exc:  # noqa: BLE001 - flags, CRC, sizes: every way a byte can break it
            result.problems.append(f"{info.filename}: unreadable or altered ({exc})")
    if MANIFEST not in contents:
        if not any(p.startswith(MANIFEST) for p in result.problems):
            result.problems.append(f"{MANIFEST}: missing from the bundle")
        return result
    try:
        manifest = json.loads(contents[MANIFEST])
        listed = manifest["files"]
        date_time = tuple(manifest["zip_date_time"])
        assert isinstance(listed, dict)
    except (ValueError, KeyError, TypeError, AssertionError) as exc:
        result.problems.append(f"{MANIFEST}: not a valid manifest ({exc})")
        return result
    for name, expected in listed.items():
        if name not in contents:
            if not any(p.startswith(name + ":") for p in result.problems):
                result.problems.append(f"{name}: listed in {MANIFEST} but missing from the bundle")
        elif _sha(contents[name]) != expected:
            result.problems.append(f"{name}: sha256 differs from {MANIFEST}")
    for name in contents:
        if name != MANIFEST and name not in listed:
            result.problems.append(f"{name}: in the bundle but not listed in {MANIFEST}")
    result.files = len(listed)
    if result.problems:
        return result
    try:
        rebuilt = _zip_bytes([(n, contents[n]) for n in order], date_time)
    except (ValueError, TypeError) as exc:
        result.problems.append(f"{MANIFEST}: zip_date_time unusable ({exc})")
        return result
    if rebuilt != raw:
        offset = next((i for i, (a, b) in enumerate(zip(raw, rebuilt)) if a != b),
                      min(len(raw), len(rebuilt)))
        result.problems.append(f"{_region_owner(raw, zf, offset)}: byte {offset} of "
                               f"{bundle.name} differs from the canonical bundle")
    return result
