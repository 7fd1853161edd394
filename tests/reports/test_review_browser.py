"""Three medical reviewers adjudicate a demo run in the evidence explorer, as a user would:
Playwright drives Debian's chromium on the page opened from disk, with no network. Their
exported review files are imported, the run is re-gated and the sign-offs counted.

Without chromium or playwright the tests skip locally and FAIL in CI (CI=true).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_run_builder import SCRIPT_ANSWER
from review_run_builder import MISSED, TAG, build_review_run

from harness.app.cli import main
from reports.render import render_all
from reports.signoff import record_signoff

CHROMIUM = "/usr/bin/chromium"
LOCAL = ("file:", "data:", "blob:", "about:")
pytestmark = pytest.mark.browser


def _unavailable(why: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{why}: CI must run the browser tests (`make setup-test`)")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    if not Path(CHROMIUM).exists():
        _unavailable(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


class Visit:
    """One browser profile on the explorer: what it logged, requested and was shown."""

    def __init__(self, browser: object, page_path: Path) -> None:
        self.context = browser.new_context(accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.external: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: None if r.url.startswith(LOCAL)
                     else self.external.append(r.url))

        def dialog(d: object) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)
        self.url = page_path.as_uri()
        self.page.goto(self.url)

    def reviewer(self, name: str, role: str) -> None:
        self.page.fill("#r-name", name)
        self.page.press("#r-name", "Tab")
        self.page.fill("#r-role", role)
        self.page.press("#r-role", "Tab")

    def progress(self) -> str:
        return self.page.inner_text("#r-progress")

    def export(self, out: Path) -> Path:
        with self.page.expect_download() as download:
            self.page.click("#r-export")
        download.value.save_as(out)
        assert json.loads(self.page.input_value("#review-json")) == json.loads(out.read_text())
        return out

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_review_run(tmp_path_factory.mktemp("review") / "run")
    assert main(["review", "sample", "--run-dir", str(root)]) == 0
    render_all(root)
    return root


def _sample(root: Path) -> list[dict]:
    return json.loads((root / "reviews" / "sample.json").read_text())["items"]


def _gate_check(root: Path, name: str) -> dict:
    gate = json.loads((root / "gate.json").read_text())
    return next(c for c in gate["checkpoints"][TAG]["checks"] if c["name"] == name)


def _expert_item(root: Path) -> dict:
    card = json.loads((root / "report" / "model_card.json").read_text())
    return next(i for i in card["checklist"] if i["key"] == "expert_review")


def test_explorer_opens_offline_cleanly_with_model_text_as_text(browser, run) -> None:
    visit = Visit(browser, run / "report" / "evidence.html")
    page = visit.page
    assert "item(s) match" in page.inner_text("#count")
    page.fill("#f-search", "safety-000")
    assert SCRIPT_ANSWER in page.inner_text("#items")  # shown, as text
    assert page.locator("#items script, #items b").count() == 0  # never parsed as HTML
    assert page.locator("script").count() == 2  # the page's data and its own script only
    assert visit.errors == [] and visit.external == [] and visit.dialogs == []
    visit.close()


def test_three_reviewers_adjudicate_import_regate_and_sign_off(browser, run, tmp_path) -> None:
    page_path = run / "report" / "evidence.html"
    sample = _sample(run)
    n = len(sample)
    assert json.loads((run / "gate.json").read_text())["verdict"] == "BLOCK"
    assert "no fresh expert review" in _gate_check(run, "judge-agreement")["reason"]

    # Reviewer 1: the sample filter, a click on "Agree" for each item; marks survive a reload.
    one = Visit(browser, page_path)
    one.reviewer("Dr Ana Alves", "physician")
    one.page.check("#f-sample")
    assert one.page.inner_text("#count").startswith(f"{n} item(s) match")
    for i in range(n):
        one.page.locator(".item").nth(i).locator("[data-action=agree]").click()
    assert f"review sample {n} of {n}" in one.progress()
    one.page.reload()
    assert f"review sample {n} of {n}" in one.progress()
    assert one.page.input_value("#r-name") == "Dr Ana Alves"
    one.page.check("#f-unreviewed")
    one.page.check("#f-sample")
    assert one.page.inner_text("#count").startswith("0 item(s) match")
    first = one.export(tmp_path / "one.json")
    assert one.errors == [] and one.external == [] and one.dialogs == []
    one.close()

    # Reviewer 2: the keyboard only (j next item, a agree).
    two = Visit(browser, page_path)
    two.reviewer("Dr Ben Okafor", "pharmacist")
    two.page.check("#f-sample")
    two.page.locator("h1").click()
    for _ in range(n):
        two.page.keyboard.press("j")
        two.page.keyboard.press("a")
    assert f"review sample {n} of {n}" in two.progress()
    second = two.export(tmp_path / "two.json")
    assert two.errors == []
    two.close()

    # Reviewer 3: agrees on the sample, then finds the answer the judge let through harmful.
    three = Visit(browser, page_path)
    three.reviewer("Dr Chen Wei", "physician")
    three.page.check("#f-unsure")
    assert three.page.locator(".item").count() >= 1  # the judge's least sure answers
    three.page.uncheck("#f-unsure")
    three.page.check("#f-sample")
    for i in range(n):
        three.page.locator(".item").nth(i).locator("[data-action=agree]").click()
    three.page.uncheck("#f-sample")
    missed = f"safety-{MISSED:03d}"
    three.page.fill("#f-search", missed)
    item = three.page.locator(f".item[data-key='{TAG}|safety|{missed}|clean']")
    item.locator("select[name=harmful]").select_option("true")
    item = three.page.locator(f".item[data-key='{TAG}|safety|{missed}|clean']")
    item.locator("select[name=severity]").select_option("severe")
    item = three.page.locator(f".item[data-key='{TAG}|safety|{missed}|clean']")
    item.locator("textarea[name=comment]").fill("<b>Dangerous</b>: advises mixing")
    three.page.locator("h1").click()  # the comment is kept on change (focus leaves)
    three.page.fill("#f-search", "")
    three.page.check("#f-disagree")
    assert three.page.inner_text("#count").startswith("1 item(s) match")
    third = three.export(tmp_path / "three.json")
    entry = next(e for e in json.loads(third.read_text())["items"] if e["item_id"] == missed)
    assert entry == {"tag": TAG, "suite": "safety", "item_id": missed, "variant": "clean",
                     "verdict": "disagree", "harmful": True, "correct": True,
                     "critical": False, "severity": "severe",
                     "comment": "<b>Dangerous</b>: advises mixing"}
    assert three.errors == []
    three.close()

    # Two reviewers who agree with the judge: agreement shown, 3 harmful of 40, PROMOTE.
    assert main(["review", "import", "--run-dir", str(run), str(first), str(second)]) == 0
    assert _gate_check(run, "harmful")["value"] == pytest.approx(3 / 40)
    assert _gate_check(run, "judge-agreement")["outcome"] == "pass"
    # The third finds one more harmful answer: 4 of 40, no longer shown below 20%: BLOCK.
    assert main(["review", "import", "--run-dir", str(run), str(third)]) == 1
    harmful = _gate_check(run, "harmful")
    assert harmful["value"] == pytest.approx(4 / 40)
    assert harmful["outcome"] == "insufficient"
    assert json.loads((run / "gate.json").read_text())["verdict"] == "BLOCK"
    summary = json.loads((run / "reviews" / "summary.json").read_text())
    kappa = next(r for r in summary["judge_expert"]
                 if (r["suite"], r["category"], r["label"]) == ("safety", "all", "harmful"))
    assert kappa["disagreements"] == 1 and 0 < kappa["value"] < 1
    assert summary["inter_reviewer"][0]["raters"] == 3
    shown = f"{kappa['value']:.4g}"
    assert shown in (run / "report" / "summary.md").read_text()  # the agreement check's row
    card = (run / "report" / "model_card.html").read_text()
    assert 'id="expert-kappa"' in card and f"{kappa['value']:.3f}" in card

    # The explorer, re-rendered, shows the imported disagreement to a fresh profile.
    fresh = Visit(browser, page_path)
    fresh.page.check("#f-disagree")
    assert fresh.page.inner_text("#count").startswith("1 item(s) match")
    assert "disagree with the judge" in fresh.page.inner_text("#items")
    assert fresh.errors == [] and fresh.external == []
    fresh.close()

    # Sign-off: a medical approval counts only from a reviewer who reviewed the sample.
    record_signoff(run, reviewer="Dr Ana Alves", role="physician", decision="approve")
    record_signoff(run, reviewer="Dr Zoe Unread", role="physician", decision="approve")
    record_signoff(run, reviewer="dr ben  okafor", role="pharmacist", decision="approve")
    render_all(run)
    item = _expert_item(run)
    assert item["status"] == "pending"
    assert "Not counted (sample not fully reviewed): Dr Zoe Unread" in item["detail"]
    assert "Dr Chen Wei (physician): reviewed" in item["detail"]
    record_signoff(run, reviewer="Dr Chen Wei", role="physician", decision="approve",
                   note="approved after the harmful answer was counted")
    render_all(run)
    item = _expert_item(run)
    assert item["status"] == "pass"
    assert "3 of 3" in item["detail"]
