"""Export bundle: contents, manifest, and verification that names the changed file."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from report_run_builder import build_run

from harness.app.cli import main
from reports.export import MANIFEST, build_bundle, verify_bundle

REQUIRED = ["report/model_card.html", "report/model_card.md", "report/model_card.json",
            "report/checklist.html", "report/evidence.html", "gate.json", "config.resolved.yaml",
            "provenance.json", "packages.json", "risk_register.json", "traceability.json",
            "traceability.md", "signoffs.json", "data/preflight.json",
            "evals/checkpoint-20/medqa.records.jsonl", "evals/base/summary.json", MANIFEST]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_run(tmp_path_factory.mktemp("exp") / "run")
    from reports.signoff import record_signoff

    record_signoff(root, reviewer="Dr A", role="physician", decision="approve")
    return build_bundle(root, root.parent / "bundle.zip")


def test_fresh_bundle_verifies_and_has_every_document(bundle: Path) -> None:
    result = verify_bundle(bundle)
    assert result.ok, result.problems
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read(MANIFEST))
        for name in REQUIRED:
            assert name in names, name
        assert any(n.startswith("signoffs/") and n.endswith(".json") for n in names)
        for name, sha in manifest["files"].items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == sha
        trace = json.loads(zf.read("traceability.json"))["rows"]
        annex = {r["id"]: r for r in trace if r["framework"] == "EU AI Act Annex IV"}
        assert "signoffs/" in annex["2(g)"]["files"] and "gate.json" in annex["2(g)"]["files"]
        assert sum(r["framework"] == "GMLP" for r in trace) == 10
        for row in trace:  # every file named as evidence is in the bundle
            for f in row["files"]:
                assert any(n == f or n.startswith(f) for n in names), f
        assert manifest["demo_suites"]
    assert main(["export", "--verify", str(bundle)]) == 0


def test_any_changed_byte_fails_naming_the_file(bundle: Path, tmp_path: Path) -> None:
    raw = bundle.read_bytes()
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
    step = max(1, len(raw) // 400)
    offsets = sorted(set(range(64)) | set(range(0, len(raw), step)) | set(range(len(raw) - 200, len(raw))))
    target = tmp_path / "b.zip"
    for offset in offsets:
        changed = bytearray(raw)
        changed[offset] ^= 0x01
        target.write_bytes(bytes(changed))
        result = verify_bundle(target)
        assert not result.ok, f"byte {offset} changed but the bundle verified"
        named = [p for p in result.problems
                 if p.split(":")[0].split(" (")[0] in names + ["b.zip", "zip end-of-directory record"]]
        assert named, (offset, result.problems)


def test_cli_verify_exit_code_and_message(bundle: Path, tmp_path: Path, capsys) -> None:
    raw = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as zf:
        info = zf.getinfo("gate.json")
    data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[data_start + 5] ^= 0x20
    target = tmp_path / "bad.zip"
    target.write_bytes(bytes(raw))
    capsys.readouterr()
    assert main(["export", "--verify", str(target)]) == 1
    assert "gate.json" in capsys.readouterr().out
    assert main(["export", "--verify", str(tmp_path / "absent.zip")]) == 2


def test_rezipped_content_change_is_caught_by_manifest(bundle: Path, tmp_path: Path) -> None:
    """Someone edits a file and writes a valid zip: the manifest hash names it."""
    target = tmp_path / "rezip.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "report/checklist.html":
                data = data.replace(b"pending", b"pass")
            dst.writestr(info, data)
    target.write_bytes(buf.getvalue())
    problems = verify_bundle(target).problems
    assert problems == ["report/checklist.html: sha256 differs from MANIFEST.sha256.json"]


def test_export_cli_writes_and_verifies(tmp_path: Path) -> None:
    root = build_run(tmp_path / "run")
    out = tmp_path / "out" / "bundle.zip"
    assert main(["export", "--run-dir", str(root), "--out", str(out)]) == 0
    assert verify_bundle(out).ok
    assert main(["export", "--run-dir", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert main(["export", "--out", str(out)]) == 2
