"""report/junit.xml: one test case per check per judged verdict, so CI shows each rule.

ElementTree from the standard library writes it (escaping included); the format is the
common JUnit subset that CI systems (GitHub, GitLab, Jenkins) read. A failed gated check
is a <failure> carrying its reason; an insufficient-evidence check is a <failure> too
(it blocks), its message beginning "insufficient evidence:" with the items it would need;
a screened pass passes with "screened, not shown" in its system-out; a reported-only check
is <skipped>.

The testsuites, in order: the chosen candidate judged on the confirmation items
(`gate.<tag>.confirmation`, the verdict CI reads, present when the gate confirmed), then
every candidate, named by the items it was judged on (`gate.<tag>.selection`, or
`gate.<tag>.all` with the split off). The failure count is the failed gated checks
(failed, insufficient or unjudgeable) of the confirmation verdict plus those of every
candidate; CI blocks on medgate's exit code in any case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from gates.checks import fmt
from gates.result import CheckpointVerdict, CheckResult, GateResult
from gates.wording import (
    collapse_line,
    insufficient_message,
    outcome_of,
    percent,
    screened_message,
    verdict_part,
    versus_base_line,
)
from harness.core.atomic import write_bytes

_CASE_FIELDS = ("suite", "metric", "judge", "value", "op", "threshold", "compared", "ci", "n",
                "min_n", "n_needed", "items", "confidence", "mcnemar_p", "direction",
                "rate_base", "rate_model", "n_paired", "only_model", "only_base",
                "mcnemar_alternative", "baseline")


def _case_text(check: CheckResult) -> str:
    shown = check.model_dump(mode="json")  # the fields gate.json has for this check
    lines = [f"{k}: {shown[k]}" for k in _CASE_FIELDS if k in shown]
    extra = [line for line in (collapse_line(check), versus_base_line(check)) if line]
    return "\n".join(lines + extra)


def _case(suite: ET.Element, classname: str, check: CheckResult) -> str:
    """Add one check's test case; returns its outcome."""
    case = ET.SubElement(suite, "testcase", classname=classname, name=check.name)
    outcome = outcome_of(check)
    if outcome == "reported":
        ET.SubElement(case, "skipped", message=f"reported, not gated: {check.reason}")
    elif outcome == "insufficient":
        failure = ET.SubElement(case, "failure", message=insufficient_message(check),
                                type="InsufficientEvidence")
        failure.text = _case_text(check)
    elif outcome == "fail":
        failure = ET.SubElement(case, "failure", message=check.reason, type="GateCheckFailed")
        failure.text = _case_text(check)
    else:
        out = ET.SubElement(case, "system-out")
        head = screened_message(check) if check.screened else check.reason
        out.text = f"{head}\nvalue: {fmt(check.value)}"
        for line in (collapse_line(check), versus_base_line(check)):
            if line:
                out.text += f"\n{line}"
    return outcome


def _testsuite(root: ET.Element, name: str, result: GateResult,
               verdict: CheckpointVerdict) -> tuple[int, int, int]:
    suite = ET.SubElement(root, "testsuite", name=name)
    part = verdict_part(result, verdict)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="verdict", value=verdict.verdict)
    ET.SubElement(props, "property", name="items", value=part or "not recorded")
    confidences = sorted({c.confidence for c in verdict.checks if c.confidence})
    if confidences:
        ET.SubElement(props, "property", name="confidence",
                      value=", ".join(percent(c) for c in confidences))
    outcomes = [_case(suite, f"medgate.{name}", check) for check in verdict.checks]
    fails = sum(o in ("fail", "insufficient") for o in outcomes)
    skips = outcomes.count("reported")
    suite.set("tests", str(len(outcomes)))
    suite.set("failures", str(fails))
    suite.set("errors", "0")
    suite.set("skipped", str(skips))
    return len(outcomes), fails, skips


def build_junit(result: GateResult) -> ET.Element:
    """The <testsuites> tree; its failure count is the failed gated checks of the
    confirmation verdict (when present) plus every candidate's."""
    root = ET.Element("testsuites", name=f"medgate gate ({result.policy.name})")
    judged: list[tuple[str, CheckpointVerdict]] = []
    if result.confirmation is not None:
        tag = result.confirmation.tag or result.chosen or "chosen"
        judged.append((f"gate.{tag}.confirmation", result.confirmation))
    for tag, verdict in result.checkpoints.items():
        part = verdict_part(result, verdict)
        judged.append((f"gate.{tag}.{part}" if part else f"gate.{tag}", verdict))
    total = failures = skipped = 0
    for name, verdict in judged:
        n, fails, skips = _testsuite(root, name, result, verdict)
        total, failures, skipped = total + n, failures + fails, skipped + skips
    if not judged:
        suite = ET.SubElement(root, "testsuite", name="gate", tests="1", failures="1",
                              errors="0", skipped="0")
        case = ET.SubElement(suite, "testcase", classname="medgate.gate", name="checkpoints")
        ET.SubElement(case, "failure", message="; ".join(result.reasons), type="GateCheckFailed")
        total += 1
        failures += 1
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("skipped", str(skipped))
    return root


def write_junit(result: GateResult, path: str | Path) -> Path:
    tree = build_junit(result)
    ET.indent(tree)
    data = ET.tostring(tree, encoding="utf-8", xml_declaration=True)
    return write_bytes(path, data + b"\n")
