"""JUnit, summary.md and the console table say the same thing about each check: pass, FAIL,
insufficient evidence with the items it needs, a screened pass, reported; the confirmation
verdict first, then the candidates named by the items that judged them."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

from gates.junit import build_junit
from gates.result import CheckpointVerdict, CheckResult, GateResult, read_gate, write_gate_json
from gates.summary_md import render_summary_md
from gates.wording import NO_INFORMATION, result_label

BUILDER = Path(__file__).parents[1] / "reports" / "report_run_builder.py"
COLLAPSED = ("answers collapsed onto A (92% of 12, entropy 0.41 bits): the benchmark carried "
             "no information about this model")


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    """The report tests' run builder, whose gate results follow gates.result's schema."""
    spec = importlib.util.spec_from_file_location("report_run_builder_for_gates", BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _from_disk(result: GateResult, tmp_path: Path) -> GateResult:
    """Through gate.json and back, as CI and the reports read it."""
    return read_gate(write_gate_json(tmp_path / "gate.json", result))


def _suites(root: ET.Element) -> dict[str, ET.Element]:
    return {s.get("name"): s for s in root.findall("testsuite")}


def _case(suite: ET.Element, name: str) -> ET.Element:
    return next(c for c in suite.findall("testcase") if c.get("name") == name)


def test_insufficient_is_a_failure_that_names_the_items_needed(builder, tmp_path: Path) -> None:
    result = _from_disk(builder.gate_result(verdict="BLOCK"), tmp_path)
    suite = _suites(build_junit(result))["gate.checkpoint-20.confirmation"]
    failure = _case(suite, "harmful_rate").find("failure")
    assert failure is not None and failure.get("type") == "InsufficientEvidence"
    assert failure.get("message").startswith("insufficient evidence: n needed 300")
    assert "judged on 3 items" in failure.get("message")
    assert "n_needed: 300" in failure.text and "items: confirmation" in failure.text


def test_screened_pass_passes_and_says_screened_not_shown(builder, tmp_path: Path) -> None:
    result = _from_disk(builder.gate_result(verdict="PROMOTE"), tmp_path)
    case = _case(_suites(build_junit(result))["gate.checkpoint-20.confirmation"], "harmful_rate")
    assert case.find("failure") is None and case.find("skipped") is None
    assert case.find("system-out").text.startswith("screened, not shown")
    plain = _case(_suites(build_junit(result))["gate.checkpoint-20.confirmation"], "forgetting")
    assert "screened" not in plain.find("system-out").text


def test_confirmation_suite_comes_first_and_candidates_say_their_items(builder,
                                                                      tmp_path: Path) -> None:
    split = build_junit(_from_disk(builder.gate_result(verdict="BLOCK"), tmp_path))
    assert list(_suites(split)) == ["gate.checkpoint-20.confirmation",
                                    "gate.checkpoint-10.selection", "gate.checkpoint-20.selection"]
    props = {p.get("name"): p.get("value")
             for p in split.find("testsuite").find("properties").findall("property")}
    assert props == {"verdict": "BLOCK", "items": "confirmation", "confidence": "95%"}
    whole = build_junit(_from_disk(builder.gate_result(verdict="BLOCK", split=False), tmp_path))
    assert list(_suites(whole)) == ["gate.checkpoint-10.all", "gate.checkpoint-20.all"]
    assert "97.5%" in ET.tostring(whole, encoding="unicode")


@pytest.mark.parametrize("split", [True, False])
def test_failures_are_the_confirmation_s_plus_the_candidates(builder, tmp_path: Path,
                                                             split: bool) -> None:
    result = _from_disk(builder.gate_result(verdict="BLOCK", split=split), tmp_path)
    root = build_junit(result)
    expected = sum(len(v.failed) for v in result.checkpoints.values())
    expected += len(result.confirmation.failed) if result.confirmation else 0
    assert expected == (4 if split else 3)  # insufficient twice or thrice, one forgetting FAIL
    assert int(root.get("failures")) == expected == len(list(root.iter("failure")))
    assert int(root.get("skipped")) == len(list(root.iter("skipped")))  # reported checks
    for suite in root.findall("testsuite"):
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
    forgetting = _case(_suites(root)[f"gate.checkpoint-10.{'selection' if split else 'all'}"],
                       "forgetting").find("failure")
    assert forgetting.get("type") == "GateCheckFailed"
    assert forgetting.get("message") == "lost 15 points of general knowledge"


def test_collapsed_answers_are_said_in_junit(builder, tmp_path: Path) -> None:
    root = build_junit(_from_disk(builder.gate_result(), tmp_path))
    case = _case(_suites(root)["gate.checkpoint-20.confirmation"], "medqa_not_worse")
    assert COLLAPSED in case.find("system-out").text
    other = _case(_suites(root)["gate.checkpoint-10.selection"], "medqa_not_worse")
    assert NO_INFORMATION not in other.find("system-out").text


def _rows(md: str, start: str) -> dict[str, str]:
    """{check: result cell} of the table under the heading that begins with `start`."""
    section = md[md.index(start):]
    rows = {}
    for line in section.splitlines()[4:]:
        if not line.startswith("| "):
            break
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        rows[cells[0]] = cells[8]
    return rows


def test_summary_md_shows_each_outcome_in_its_result_column(builder, tmp_path: Path) -> None:
    md = render_summary_md(_from_disk(builder.gate_result(verdict="BLOCK"), tmp_path))
    verdict = _rows(md, "### Verdict: checkpoint-20 on the confirmation items: BLOCK")
    assert verdict == {"medqa_not_worse": "pass", "harmful_rate": "INSUFFICIENT (n needed 300)",
                       "forgetting": "pass", "latency_p95": "reported"}
    assert _rows(md, "#### checkpoint-10 on the selection items")["forgetting"] == "FAIL"
    assert md.index("### Verdict:") < md.index("### Candidates on the selection items")
    assert f"- medqa_not_worse: {COLLAPSED}" in md
    promote = render_summary_md(_from_disk(builder.gate_result(), tmp_path))
    assert _rows(promote, "### Verdict:")["harmful_rate"] == "pass (screened, not shown)"


def test_summary_md_says_which_items_chose_and_which_confirmed(builder, tmp_path: Path) -> None:
    md = render_summary_md(_from_disk(builder.gate_result(verdict="BLOCK"), tmp_path))
    split = md[md.index("### Items that chose and items that confirmed"):md.index("### Verdict")]
    assert "method: `sha256(item_id)`, confirm fraction 0.5, candidates 2" in split
    assert "| medqa | 6 | 6 |" in split and "| safety | 3 | 3 |" in split
    assert "judged again on the confirmation items" in split
    off = render_summary_md(_from_disk(builder.gate_result(verdict="BLOCK", split=False),
                                       tmp_path))
    assert "### Verdict" not in off and "### Candidates on all items" in off
    assert "correction: bonferroni, confidence 97.5%, candidates 2" in off
    assert "Bonferroni-corrected for the 2 candidate(s)" in off


def test_console_table_uses_the_same_words(builder, tmp_path: Path, capsys,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.app.commands.gate import print_result
    from harness.core.console import out

    monkeypatch.setattr(out, "width", 240)
    print_result(_from_disk(builder.gate_result(verdict="BLOCK"), tmp_path))
    text = capsys.readouterr().out
    assert text.index("checkpoint-20 on the confirmation items: BLOCK") < \
        text.index("checkpoint-10 on the selection items: BLOCK")
    assert "INSUFFICIENT (n needed 300)" in text and "FAIL" in text and "reported" in text
    assert COLLAPSED in text
    assert "medqa: 6 selection items chose, 6 confirmation items confirmed" in text
    assert "chosen: checkpoint-20" in text
    print_result(_from_disk(builder.gate_result(), tmp_path))
    assert "pass (screened, not shown)" in capsys.readouterr().out


def test_a_gate_json_from_before_outcomes_reads_by_passed() -> None:
    old = CheckResult.model_validate({"name": "old", "passed": True, "gated": True})
    assert result_label(old) == "pass"
    assert result_label(CheckResult.model_validate({"name": "old", "passed": False})) == "FAIL"


def test_a_contradiction_fails_closed_and_is_counted() -> None:
    """An outcome of pass with passed False is no pass: shown as FAIL, counted as a failure."""
    odd = CheckResult(name="odd", passed=False, outcome="pass")
    short = CheckResult(name="short", passed=False, outcome="insufficient")
    result = GateResult(verdict="BLOCK", checkpoints={
        "checkpoint-1": CheckpointVerdict(verdict="BLOCK", checks=[odd, short])})
    assert result_label(odd) == "FAIL"
    assert result_label(short) == "INSUFFICIENT (n needed not recorded)"
    root = build_junit(result)
    assert root.get("failures") == "2" and list(_suites(root)) == ["gate.checkpoint-1"]
