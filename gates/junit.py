"""report/junit.xml: one test case per check per checkpoint, so CI shows each rule.

ElementTree from the standard library writes it (escaping included); the format is the
common JUnit subset that CI systems (GitHub, GitLab, Jenkins) read: a failed gated check
is a <failure> carrying its reason, a reported-only check is <skipped>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from gates.checks import fmt
from gates.result import CheckResult, GateResult
from harness.core.atomic import write_bytes

_CASE_FIELDS = ("suite", "metric", "judge", "value", "op", "threshold", "compared", "ci", "n",
                "min_n", "mcnemar_p")


def _case_text(check: CheckResult) -> str:
    shown = check.model_dump(mode="json")  # the fields gate.json has for this check
    return "\n".join(f"{k}: {shown[k]}" for k in _CASE_FIELDS if k in shown)


def build_junit(result: GateResult) -> ET.Element:
    """The <testsuites> tree; its failure count equals the failed gated checks."""
    root = ET.Element("testsuites", name=f"medgate gate ({result.policy.name})")
    total = failures = skipped = 0
    for tag, verdict in result.checkpoints.items():
        suite = ET.SubElement(root, "testsuite", name=f"gate.{tag}")
        s_fail = s_skip = 0
        for check in verdict.checks:
            case = ET.SubElement(suite, "testcase", classname=f"medgate.gate.{tag}",
                                 name=check.name)
            if not check.gated:
                ET.SubElement(case, "skipped", message=check.reason)
                s_skip += 1
            elif check.passed is not True:
                failure = ET.SubElement(case, "failure", message=check.reason,
                                        type="GateCheckFailed")
                failure.text = _case_text(check)
                s_fail += 1
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"{check.reason}\nvalue: {fmt(check.value)}"
        suite.set("tests", str(len(verdict.checks)))
        suite.set("failures", str(s_fail))
        suite.set("errors", "0")
        suite.set("skipped", str(s_skip))
        total += len(verdict.checks)
        failures += s_fail
        skipped += s_skip
    if not result.checkpoints:
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
