"""Verdict integrity across documents: an insufficient check, a screened pass, a collapsed
benchmark and the item split read the same in JUnit, summary.md, the model card (HTML,
Markdown, JSON) and the checklist, all derived from one gate.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from report_run_builder import build_run, gate_result

from gates.junit import build_junit
from gates.result import read_gate, write_gate_json
from gates.summary_md import render_summary_md
from harness.core.rundir import RunDir
from harness.core.summaries import MetricEntry, read_summaries, write_suite_summary
from reports.render import render_all

SENTENCE = ("medqa: answers collapsed onto A (92% of 12, entropy 0.41 bits): the benchmark "
            "carried no information about this model")


def _page(root: Path, name: str) -> str:
    return (root / "report" / name).read_text(encoding="utf-8")


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start):html.index(end, html.index(start))]


def _row(html: str, check: str) -> str:
    """The first table row of `html` whose first cell is `check`."""
    return re.search(rf"<tr><td>{check}</td>.*?</tr>", html, re.DOTALL).group(0)


def _verdict_table(card: str) -> str:
    """The model card's first gate table: the verdict on the confirmation items."""
    gate = _section(card, 'id="gate"', 'id="limitations"')
    return _section(gate, "Verdict: checkpoint-20 on the confirmation items", "</table>")


@pytest.fixture(scope="module")
def blocked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = build_run(tmp_path_factory.mktemp("blocked") / "run", verdict="BLOCK")
    items = {i.key: i for i in render_all(root).items}
    return root, items


@pytest.fixture(scope="module")
def promoted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = build_run(tmp_path_factory.mktemp("promoted") / "run")
    items = {i.key: i for i in render_all(root).items}
    return root, items


def test_insufficient_evidence_reads_the_same_in_every_document(blocked) -> None:
    root, items = blocked
    result = read_gate(root / "gate.json")
    messages = [f.get("message") for f in build_junit(result).iter("failure")
                if f.get("type") == "InsufficientEvidence"]
    assert messages and all(m.startswith("insufficient evidence: n needed 300") for m in messages)
    assert "| INSUFFICIENT (n needed 300) |" in render_summary_md(result)

    card = _page(root, "model_card.html")
    row = _row(_verdict_table(card), "harmful_rate")
    assert '<span class="status insufficient">INSUFFICIENT (n needed 300)</span>' in row
    assert ">pass<" not in row and "FAIL" not in row  # neither a pass nor a failure
    limitations = _section(card, 'id="limitations"', "</ul>")
    assert "Insufficient evidence, which blocks the release" in limitations
    assert "harmful_rate (n needed 300)" in limitations
    assert "| harmful_rate | safety.harmful_rate |" in _page(root, "model_card.md")
    assert "INSUFFICIENT (n needed 300)" in _page(root, "model_card.md")
    verdicts = json.loads(_page(root, "model_card.json"))["gate"]["verdicts"]
    assert verdicts[0]["confirms"] and verdicts[0]["on"] == "the confirmation items"
    harmful = next(r for r in verdicts[0]["rows"] if r["name"] == "harmful_rate")
    assert (harmful["outcome"], harmful["n_needed"]) == ("insufficient", 300)

    # The checklist's gate item does not tick, and it is not called a failure either.
    assert items["gate"].status == "insufficient" and items["safety"].status == "insufficient"
    assert "insufficient evidence" in items["gate"].detail.lower()
    assert "harmful_rate (n needed 300)" in items["gate"].detail
    checklist = _page(root, "checklist.html")
    gate_row = re.search(r'<tr id="item-gate">.*?</tr>', checklist, re.DOTALL).group(0)
    assert '<span class="status insufficient">insufficient</span>' in gate_row
    assert "harmful_rate (n needed 300)" in gate_row
    assert "insufficient evidence ·" in checklist  # counted apart from pass and fail


def test_a_real_failure_stays_a_failure(blocked) -> None:
    root, _ = blocked
    card = _page(root, "model_card.html")
    candidate = _section(card, "checkpoint-10 on the selection items", "</table>")
    assert '<span class="status fail">FAIL</span>' in _row(candidate, "forgetting")
    assert '<span class="status reported">reported</span>' in _row(candidate, "latency_p95")


def test_screened_pass_says_screened_not_shown_everywhere(promoted) -> None:
    root, items = promoted
    result = read_gate(root / "gate.json")
    outs = [case.find("system-out").text for case in build_junit(result).iter("testcase")
            if case.get("name") == "harmful_rate"]
    assert outs and all(o.startswith("screened, not shown") for o in outs)
    assert "| pass (screened, not shown) |" in render_summary_md(result)
    card = _page(root, "model_card.html")
    assert ('<span class="status screened">pass (screened, not shown)</span>'
            in _row(_verdict_table(card), "harmful_rate"))
    assert "| pass (screened, not shown) |" in _page(root, "model_card.md")
    assert items["gate"].status == "pass"  # a screen passed, and the documents say how
    assert "harmful_rate: screened, not shown" in items["gate"].detail
    assert "harmful_rate: screened, not shown" in items["safety"].detail
    assert "harmful_rate: screened, not shown" in _page(root, "checklist.html")


def test_model_card_says_which_items_chose_and_which_confirmed(blocked) -> None:
    root, items = blocked
    card = _page(root, "model_card.html")
    split = _section(card, 'id="split"', "</table>")
    assert "judged again on the confirmation items, which took no part in choosing it" in split
    assert "<code>sha256(item_id)</code>; confirm fraction 0.500; 2 candidate(s)" in split
    for suite, chose, confirmed in (("medqa", 6, 6), ("safety", 3, 3), ("general", 5, 5)):
        assert (f'<tr><td>{suite}</td><td class="num">{chose}</td>'
                f'<td class="num">{confirmed}</td></tr>') in split
    assert card.index('id="split"') < card.index("Verdict: checkpoint-20") < \
        card.index("checkpoint-10 on the selection items")
    assert "judged on the confirmation items at 95% confidence" in items["gate"].detail
    md = _page(root, "model_card.md")
    assert "| medqa | 6 | 6 |" in md and "### Verdict: checkpoint-20 on the confirmation" in md


def test_model_card_reports_the_subject_on_the_confirmation_items(blocked) -> None:
    root, _ = blocked
    card = _page(root, "model_card.html")
    assert "(the selection rule chose <strong>checkpoint-20</strong>; it was not promoted)" in card
    confirmed = _section(card, 'id="confirmed"', "</table>")
    assert "checkpoint-20 on the confirmation items" in confirmed
    medqa = _row(confirmed, "medqa_not_worse")
    assert "0.620" in medqa and "[0.400, 0.800]" in medqa and '<td class="num">6</td>' in medqa
    assert '<td class="num">3</td>' in _row(confirmed, "harmful_rate")


def test_without_a_split_the_card_states_the_correction(tmp_path: Path) -> None:
    root = build_run(tmp_path / "run", verdict="BLOCK", split=False)
    items = {i.key: i for i in render_all(root).items}
    card = _page(root, "model_card.html")
    split = _section(card, 'id="split"', "<h3>")
    assert "No split: every candidate was judged on all items at 97.5% confidence" in split
    assert "Bonferroni-corrected for the 2 candidate(s)" in split
    assert "Correction: bonferroni; confidence 97.5%; 2 candidate(s)." in split
    assert 'id="confirmed"' not in card and "Verdict:" not in card
    assert "checkpoint-20 on all items" in card
    assert "judged on all items at 97.5% confidence" in items["gate"].detail
    assert items["gate"].status == "insufficient"


def test_collapsed_benchmark_carried_no_information(promoted) -> None:
    root, items = promoted
    card = _page(root, "model_card.html")
    assert f'<p class="collapsed">{SENTENCE}.</p>' in card
    assert f"- {SENTENCE}." in _page(root, "model_card.md")
    card_json = json.loads(_page(root, "model_card.json"))
    assert card_json["gate"]["benchmarks_without_information"] == [SENTENCE]
    assert f"{SENTENCE}." in [d["description"] for d in card_json["considerations"]["limitations"]]
    # medqa told nothing, so one informative benchmark is left: performance is not shown.
    assert items["performance"].status == "insufficient"
    assert SENTENCE in items["performance"].detail


def _spread_degenerate(root: Path, degenerate: bool) -> None:
    eval_dir = root / "evals" / "checkpoint-20"
    medqa = read_summaries(eval_dir)["medqa"]
    spread = medqa.metrics["answer_spread"].model_dump(exclude_unset=True)
    medqa.metrics["answer_spread"] = MetricEntry(**{**spread, "degenerate": degenerate})
    write_suite_summary(eval_dir, "medqa", medqa)


def _gate_without_collapse(root: Path) -> None:
    result = gate_result()
    for verdict in [result.confirmation, *result.checkpoints.values()]:
        for check in verdict.checks:
            check.degenerate = None
    write_gate_json(RunDir(root).gate, result)


@pytest.mark.parametrize("source", ["summary", "check"])
def test_either_source_of_collapse_is_enough(tmp_path: Path, source: str) -> None:
    """The suite's answer_spread alone, or the gate check's `degenerate` alone, puts the
    sentence (with the same figures here) on the card."""
    root = build_run(tmp_path / "run")
    if source == "summary":
        _gate_without_collapse(root)
    else:
        _spread_degenerate(root, False)
    render_all(root)
    assert f'<p class="collapsed">{SENTENCE}.</p>' in _page(root, "model_card.html")


def test_no_collapse_no_sentence(tmp_path: Path) -> None:
    root = build_run(tmp_path / "run")
    _gate_without_collapse(root)
    _spread_degenerate(root, False)
    items = {i.key: i for i in render_all(root).items}
    card = _page(root, "model_card.html")
    assert "carried no information" not in card and 'id="collapsed"' not in card
    assert items["performance"].status == "pass"


def test_gate_item_never_ticks_on_insufficient_evidence(tmp_path: Path) -> None:
    """Even a gate.json that says PROMOTE does not tick the item while a check it rests on
    could not show its threshold."""
    root = build_run(tmp_path / "run")
    result = gate_result()
    harmful = next(c for c in result.confirmation.checks if c.name == "harmful_rate")
    harmful.passed, harmful.outcome, harmful.screened = False, "insufficient", False
    write_gate_json(RunDir(root).gate, result)
    items = {i.key: i for i in render_all(root).items}
    assert items["gate"].status == "insufficient"
    assert "harmful_rate (n needed 300)" in items["gate"].detail


def test_markup_in_a_check_reason_is_text(tmp_path: Path) -> None:
    """Reasons quote item ids and data; on every page they are text, never markup."""
    root = build_run(tmp_path / "run")
    result = gate_result()
    result.confirmation.checks[0].reason = "item <img src=x onerror=alert(1)> | flipped"
    write_gate_json(RunDir(root).gate, result)
    render_all(root)
    card = _page(root, "model_card.html")
    assert "<img src=x" not in card and "&lt;img src=x onerror=alert(1)&gt;" in card
    md = _page(root, "model_card.md")
    assert "<img src=x" not in md and "item &lt;img src=x onerror=alert(1)&gt; \\| flipped" in md


def test_card_opens_with_what_the_verdict_rests_on(blocked, promoted) -> None:
    blocked_card = _page(blocked[0], "model_card.html")
    assert ("rests on 4 checks: 2 pass, 0 pass (screened, not shown), 1 insufficient evidence, "
            "0 FAIL, 1 reported") in blocked_card
    assert ("rests on 4 checks: 2 pass, 1 pass (screened, not shown), 0 insufficient evidence, "
            "0 FAIL, 1 reported") in _page(promoted[0], "model_card.html")


def test_gate_item_fails_when_the_run_blocked_for_another_reason(tmp_path: Path) -> None:
    root = build_run(tmp_path / "run")
    result = gate_result()
    result.verdict, result.selected = "BLOCK", None
    result.reasons = ["promotion: merged weights could not be written"]
    write_gate_json(RunDir(root).gate, result)
    items = {i.key: i for i in render_all(root).items}
    assert items["gate"].status == "fail"
    assert "promotion: merged weights could not be written" in items["gate"].detail
