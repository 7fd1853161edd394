"""The three pages in headless Chromium: no console error, no request leaving the page,
model text shown and never run, and a screenshot that is not blank."""

from __future__ import annotations

from pathlib import Path

import pytest
from chromium_probe import find_chromium, probe, screenshot
from report_run_builder import SCRIPT_ANSWER, build_run

from reports.render import PAGES, render_all
from reports.signoff import record_signoff

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not found on PATH (install Debian's "
                       "chromium: `make setup-test` or `apt-get install -y chromium`)"),
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_run(tmp_path_factory.mktemp("browser") / "run")
    record_signoff(root, reviewer="Dr <script>alert(1)</script>", role="physician",
                   decision="approve", note="<img src=x onerror=alert(2)>")
    render_all(root)
    return root


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_cleanly_and_shows_model_text_as_text(rendered: Path, name: str) -> None:
    report = probe(CHROMIUM, rendered / "report" / name)
    assert report.loaded
    assert report.console_errors == []
    assert report.external_requests == []
    assert report.requests[0] == report.url
    assert all(u.startswith("data:image/svg+xml") for u in report.requests[1:])  # embedded plots
    assert report.dialogs == []  # no alert() from any answer, reviewer name or note
    assert "<script>alert(1)</script>" in report.text  # shown, as text
    if name == "evidence.html":
        assert SCRIPT_ANSWER in report.text  # the explorer's script built the items
        assert "item(s) match" in report.text


@pytest.mark.parametrize("name", PAGES)
def test_screenshot_is_a_non_blank_png(rendered: Path, name: str, tmp_path: Path) -> None:
    from PIL import Image

    shot = screenshot(CHROMIUM, rendered / "report" / name, tmp_path / f"{name}.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(shot) as image:
        assert image.size == (1280, 1600)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, tables, banners: not a blank page
    dominant = max(colours)[0] / (1280 * 1600)
    assert dominant < 0.95


def test_probe_detects_requests_errors_and_dialogs(tmp_path: Path) -> None:
    """The detector itself: a page that misbehaves in every way is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="http://192.0.2.1/pixel.png">'
                   "<script>console.error('boom'); alert('hi'); fetch('https://example.invalid/x')"
                   "</script></body></html>")
    report = probe(CHROMIUM, bad, settle=2.0)
    assert any(u.startswith("http://192.0.2.1") for u in report.external_requests)
    assert any("boom" in e for e in report.console_errors)
    assert report.dialogs == ["hi"]
