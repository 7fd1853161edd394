"""The export bundle's PDFs (model card, checklist): listed in the manifest like every
other file, they open (pdftoppm renders their first pages to an image that is not blank)
and their text shows the verdict."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from report_run_builder import build_run

from reports.export import build_bundle, bundle_manifest, verify_bundle
from reports.pdf import find_chromium

pytestmark = pytest.mark.browser
PAGES = ("report/model_card.pdf", "report/checklist.pdf")


def _need(tool: str | None, what: str) -> str:
    """In CI a missing tool fails the test; elsewhere it skips with the install step."""
    if tool is None:
        message = f"{what} not found (`make setup-test` installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return tool


def _first_page_png(pdf: bytes, tmp: Path) -> bytes:
    pdftoppm = _need(shutil.which("pdftoppm"), "pdftoppm (poppler-utils)")
    (tmp / "doc.pdf").write_bytes(pdf)
    subprocess.run([pdftoppm, "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile",
                    str(tmp / "doc.pdf"), str(tmp / "page")], check=True, timeout=60)
    return (tmp / "page.png").read_bytes()


def _text(pdf: bytes, tmp: Path) -> str:
    pdftotext = _need(shutil.which("pdftotext"), "pdftotext (poppler-utils)")
    (tmp / "doc.pdf").write_bytes(pdf)
    return subprocess.run([pdftotext, "-layout", str(tmp / "doc.pdf"), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout


@pytest.mark.parametrize("verdict", ["PROMOTE", "BLOCK"])
def test_bundle_pdfs_open_and_show_the_verdict(tmp_path: Path, verdict: str) -> None:
    _need(find_chromium(), "chromium")
    root = build_run(tmp_path / "run", verdict=verdict)
    bundle = build_bundle(root, tmp_path / "bundle.zip")
    assert verify_bundle(bundle).ok
    manifest = bundle_manifest(bundle)
    assert manifest["pdf"]["rendered"] == list(PAGES) and manifest["pdf"]["missing"] == []
    other = "BLOCK" if verdict == "PROMOTE" else "PROMOTE"
    with zipfile.ZipFile(bundle) as zf:
        for name in PAGES:
            assert name in manifest["files"]  # checked like every other file
            pdf = zf.read(name)
            assert pdf.startswith(b"%PDF-")
            image = Image.open(io.BytesIO(_first_page_png(pdf, tmp_path))).convert("L")
            low, high = image.getextrema()
            assert image.width > 100 and high - low > 100, f"{name}: first page is blank"
            text = " ".join(_text(pdf, tmp_path).split())
            assert verdict in text, name
            if name.endswith("model_card.pdf"):
                assert f"{other} " not in text.split("Gate verdict")[0], name


def test_a_changed_pdf_byte_fails_verification(tmp_path: Path) -> None:
    _need(find_chromium(), "chromium")
    root = build_run(tmp_path / "run")
    bundle = build_bundle(root, tmp_path / "bundle.zip")
    with zipfile.ZipFile(bundle) as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(changed, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in entries:
            if name == "report/checklist.pdf":
                data = data.replace(b"%PDF-", b"%PDF_", 1)
            zf.writestr(name, data)
    problems = verify_bundle(changed).problems
    assert any(p.startswith("report/checklist.pdf: sha256 differs") for p in problems), problems
