"""After a real `medgate train-and-gate` on the embedded default, the three pages load in
headless Chromium with no console error and no request leaving the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from chromium_probe import find_chromium, probe

from harness.app.cli import main
from reports.render import PAGES

CHROMIUM = find_chromium()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not found on PATH (install Debian's "
                    "chromium: `make setup-test` or `apt-get install -y chromium`)")
def test_pages_after_train_and_gate(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    code = main(["train-and-gate", "--run-dir", str(run_dir), "--set", "training.max_steps=2",
                 "--set", "training.save_steps=2", "--set", "training.eval_steps=2",
                 "--set", "evaluation.limit=8", "--set", "evaluation.max_new_tokens=32"])
    assert code in (0, 1)  # PROMOTE or BLOCK; both must leave readable reports
    for name in PAGES:
        report = probe(CHROMIUM, run_dir / "report" / name)
        assert report.loaded, name
        assert report.console_errors == [], name
        assert report.external_requests == [], name
        assert report.dialogs == [], name
        assert "Demo data" in report.text, name
    assert main(["export", "--run-dir", str(run_dir), "--out", str(tmp_path / "b.zip")]) == 0
    assert main(["export", "--verify", str(tmp_path / "b.zip")]) == 0
