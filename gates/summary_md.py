"""report/summary.md: the verdict and every check as tables fit for a PR comment.

The verdict comes first: the chosen checkpoint judged on the confirmation items when the
gate confirmed, then the candidates on the selection items (the items that chose). A
section says which items chose and which confirmed, or, with the split off, the correction
and confidence the candidates were judged at.
"""

from __future__ import annotations

from pathlib import Path

from gates.checks import fmt
from gates.result import CheckpointVerdict, GateResult
from gates.wording import (
    ITEMS,
    LEGEND,
    collapse_line,
    percent,
    result_label,
    split_counts,
    split_recorded,
    split_statement,
    verdict_part,
    versus_base_line,
)
from harness.core.atomic import write_text


def _cell(text: object) -> str:
    """Markdown table cells: no pipes, no newlines, no raw HTML."""
    s = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return s.replace("<", "&lt;").replace(">", "&gt;")


def _ci(ci: object) -> str:
    if isinstance(ci, list) and len(ci) == 2:
        return f"[{fmt(ci[0])}, {fmt(ci[1])}]"
    return ""


def _source(result: GateResult) -> str:
    where = {"policy": "the policy's rule", "config": "set by the run's config (gates.selection)",
             "cli": "set by `medgate gate --selection`"}.get(result.selection.source or "")
    return f" ({where})" if where else ""


def _split(result: GateResult) -> list[str]:
    lines = ["### Items that chose and items that confirmed", "", _cell(split_statement(result)),
             ""]
    split = result.split
    if split_recorded(split) and split.enabled:
        lines.append(f"- method: `{_cell(split.method)}`, confirm fraction "
                     f"{fmt(split.confirm_fraction)}, candidates {split.candidates}")
    elif split_recorded(split):
        lines.append(f"- correction: {split.correction}, confidence {percent(split.confidence)}, "
                     f"candidates {split.candidates}")
    counts = split_counts(split)
    if counts:
        lines += ["", "| suite | selection items (chose) | confirmation items (confirmed) |",
                  "| --- | ---: | ---: |"]
        lines += [f"| {_cell(s)} | {fmt(a) if a is not None else ''} | "
                  f"{fmt(b) if b is not None else ''} |" for s, a, b in counts]
    return lines + [""]


def _table(title: str, verdict: CheckpointVerdict) -> list[str]:
    lines = [title, "",
             "| check | metric | value | op | threshold | compared | CI | n | result | reason |",
             "| --- | --- | ---: | :-: | ---: | ---: | --- | ---: | --- | --- |"]
    for c in verdict.checks:
        lines.append("| " + " | ".join(_cell(x) for x in (
            c.name, f"{c.suite}.{c.metric}", fmt(c.value), c.op or "",
            fmt(c.threshold), fmt(c.compared), _ci(c.ci),
            c.n if c.n is not None else "", result_label(c), c.reason)) + " |")
    collapsed = [(c.name, line) for c in verdict.checks if (line := collapse_line(c))]
    if collapsed:
        lines.append("")
        lines += [f"- {_cell(name)}: {_cell(line)}" for name, line in collapsed]
    versus = [(c.name, line) for c in verdict.checks if (line := versus_base_line(c))]
    if versus:
        lines.append("")
        lines += [f"- {_cell(name)}: {_cell(line)}" for name, line in versus]
    return lines + [""]


def _on(result: GateResult, verdict: CheckpointVerdict) -> str:
    part = verdict_part(result, verdict)
    return f" on {ITEMS[part]}" if part else ""


def render_summary_md(result: GateResult) -> str:
    icon = "✅" if result.verdict == "PROMOTE" else "⛔"
    lines = [f"## {icon} medgate gate: {result.verdict}", "",
             f"- policy: `{result.policy.name}` (sha256 `{result.policy.sha256[:12]}`)",
             f"- selected: `{result.selected}`" if result.selected else "- selected: none"]
    if result.chosen:
        lines.append(f"- chosen on the selection items: `{result.chosen}`")
    lines += [f"- selection rule: {result.selection.description}{_source(result)}",
              f"- baseline: `{result.baseline.run_dir}` / `{result.baseline.tag}`", ""]
    if result.reasons:
        lines += ["**Reasons**", ""] + [f"- {_cell(r)}" for r in result.reasons[:50]]
        if len(result.reasons) > 50:
            lines.append(f"- … and {len(result.reasons) - 50} more (see gate.json)")
        lines.append("")
    lines += _split(result)
    if result.confirmation is not None:
        conf = result.confirmation
        lines += _table(f"### Verdict: {conf.tag or result.chosen}{_on(result, conf)}: "
                        f"{conf.verdict}", conf)
    if result.checkpoints:
        part = {verdict_part(result, v) for v in result.checkpoints.values()}
        heading = ITEMS[next(iter(part))] if len(part) == 1 and None not in part else None
        lines += [f"### Candidates{f' on {heading}' if heading else ''}", ""]
    for tag, verdict in result.checkpoints.items():
        lines += _table(f"#### {tag}{_on(result, verdict)}: {verdict.verdict}", verdict)
    if result.confirmation is not None or result.checkpoints:
        lines += ["_Results: " + "; ".join(f"**{label}**: {meaning}" for label, meaning in LEGEND)
                  + "._", ""]
    demo = sorted({s for v in result.checkpoints.values() for s in v.demo_suites})
    if demo:
        lines.append(f"_Demo data: {', '.join(demo)} scored the bundled demo sets written for "
                     f"this project; they are not clinical benchmarks._")
    return "\n".join(lines).rstrip() + "\n"


def write_summary_md(result: GateResult, path: str | Path) -> Path:
    return write_text(path, render_summary_md(result))
