"""report/summary.md: the verdict and every check as a table fit for a PR comment."""

from __future__ import annotations

from pathlib import Path

from gates.checks import fmt
from gates.result import CheckResult, GateResult
from harness.core.atomic import write_text


def _cell(text: object) -> str:
    """Markdown table cells: no pipes, no newlines, no raw HTML."""
    s = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return s.replace("<", "&lt;").replace(">", "&gt;")


def _ci(ci: object) -> str:
    if isinstance(ci, list) and len(ci) == 2:
        return f"[{fmt(ci[0])}, {fmt(ci[1])}]"
    return ""


def _status(check: CheckResult) -> str:
    if not check.gated:
        return "reported"
    return "pass" if check.passed is True else "**FAIL**"


def _source(result: GateResult) -> str:
    where = {"policy": "the policy's rule", "config": "set by the run's config (gates.selection)",
             "cli": "set by `medgate gate --selection`"}.get(result.selection.source or "")
    return f" ({where})" if where else ""


def render_summary_md(result: GateResult) -> str:
    icon = "✅" if result.verdict == "PROMOTE" else "⛔"
    lines = [
        f"## {icon} medgate gate: {result.verdict}",
        "",
        f"- policy: `{result.policy.name}` (sha256 `{result.policy.sha256[:12]}`)",
        f"- selected: `{result.selected}`" if result.selected else "- selected: none",
        f"- selection rule: {result.selection.description}{_source(result)}",
        f"- baseline: `{result.baseline.run_dir}` / `{result.baseline.tag}`",
        "",
    ]
    if result.reasons:
        lines += ["**Reasons**", ""] + [f"- {_cell(r)}" for r in result.reasons[:50]]
        if len(result.reasons) > 50:
            lines.append(f"- … and {len(result.reasons) - 50} more (see gate.json)")
        lines.append("")
    for tag, verdict in result.checkpoints.items():
        lines += [
            f"### {tag}: {verdict.verdict}",
            "",
            "| check | metric | value | op | threshold | compared | CI | n | result | reason |",
            "| --- | --- | ---: | :-: | ---: | ---: | --- | ---: | --- | --- |",
        ]
        for c in verdict.checks:
            lines.append("| " + " | ".join(_cell(x) for x in (
                c.name, f"{c.suite}.{c.metric}", fmt(c.value), c.op or "",
                fmt(c.threshold), fmt(c.compared), _ci(c.ci),
                c.n if c.n is not None else "", _status(c), c.reason)) + " |")
        lines.append("")
    demo = sorted({s for v in result.checkpoints.values() for s in v.demo_suites})
    if demo:
        lines.append(f"_Demo data: {', '.join(demo)} scored the bundled demo sets written for "
                     f"this project; they are not clinical benchmarks._")
    return "\n".join(lines).rstrip() + "\n"


def write_summary_md(result: GateResult, path: str | Path) -> Path:
    return write_text(path, render_summary_md(result))
