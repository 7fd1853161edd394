"""Re-judge a run's records with a gate policy; no model is run.

Exit 0 PROMOTE, 1 BLOCK, 2 bad input. Writes gate.json, report/junit.xml (one test case
per check per checkpoint) and report/summary.md (a table for a pull-request comment).
With --baseline, paired checks compare against another run's model (its promoted
checkpoint unless --baseline-tag says otherwise) instead of this run's base; with
--baseline release:latest (or release:1.0.0) against a released model's records, so CI
blocks a candidate that regresses against what is in production.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gates.result import GateResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", required=True, help="run directory to judge")
    parser.add_argument("--baseline", metavar="DIR|release:VERSION",
                        help="take the reference model's records from this run instead, or "
                             "from a release (release:latest, release:1.0.0)")
    parser.add_argument("--registry", default="registry",
                        help="release registry for --baseline release:... (default: registry/)")
    parser.add_argument("--baseline-tag", help="model tag in the baseline run (default: its "
                                               "promoted checkpoint, else base)")
    parser.add_argument("--policy", metavar="FILE|NAME",
                        help="policy YAML or built-in name (default: the run's "
                             "gates.policy, else 'default')")
    parser.add_argument("--tags", help="comma-separated model tags to judge (default: every "
                                       "evaluated model except base)")
    parser.add_argument("--selection", choices=["best_primary", "last_passing"],
                        help="override the selection rule (default: the run's gates.selection "
                             "if its config sets one, else the policy's selection.rule)")
    parser.add_argument("--junit", metavar="FILE", help="JUnit XML path "
                                                        "(default RUN/report/junit.xml)")


def _run_gates_config(run) -> dict[str, Any]:
    """The `gates` section of the run's resolved config ({} when there is none to read)."""
    import yaml

    if not run.config.exists():
        return {}
    try:
        data = yaml.safe_load(run.config.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return {}
    gates = data.get("gates") if isinstance(data, dict) else None
    return gates if isinstance(gates, dict) else {}


def _run_policy_name(run) -> str:
    """The policy the run was configured with, so a plain re-judge uses the same rules."""
    policy = _run_gates_config(run).get("policy")
    return policy if isinstance(policy, str) and policy else "default"


def _selection(args: argparse.Namespace, run) -> tuple[str | None, str]:
    """The selection rule that overrides the policy's, and who set it.

    `--selection` first, else the run's configured gates.selection (what train-and-gate
    used), else None: the policy's own rule chooses, as it did when the run was gated.
    """
    from typing import get_args

    from gates.result import SelectionRule
    from harness.core.errors import BadInputError

    if args.selection:
        return args.selection, "cli"
    rule = _run_gates_config(run).get("selection")
    if rule is None:
        return None, "config"
    if rule not in get_args(SelectionRule):
        raise BadInputError(f"key 'gates.selection': '{rule}' is not one of "
                            f"{', '.join(get_args(SelectionRule))}", where=str(run.config))
    return rule, "config"


def print_result(result: GateResult) -> None:
    """The verdict first (the confirmation when the gate confirmed), then the candidates on
    the items that chose; each check's result in the words of every other gate document."""
    from rich.table import Table
    from rich.text import Text

    from gates.checks import fmt
    from gates.wording import (
        ITEMS,
        collapse_line,
        outcome_of,
        result_label,
        split_counts,
        split_statement,
        verdict_part,
    )
    from harness.core.console import out

    styles = {"pass": "green", "fail": "bold red", "insufficient": "bold yellow",
              "reported": "dim"}
    judged = [(result.confirmation.tag or result.chosen or "chosen", result.confirmation)] \
        if result.confirmation is not None else []
    for tag, verdict in judged + list(result.checkpoints.items()):
        part = verdict_part(result, verdict)
        on = f" on {ITEMS[part]}" if part else ""
        table = Table(title=f"{tag}{on}: {verdict.verdict}", title_justify="left")
        for col in ("check", "value", "threshold", "CI", "n", "result"):
            table.add_column(col, overflow="fold", no_wrap=col not in ("check", "result"))
        table.add_column("reason", overflow="fold", ratio=1, min_width=30)
        for c in verdict.checks:
            ci = f"[{fmt(c.ci[0])}, {fmt(c.ci[1])}]" if c.ci else ""
            status = Text(result_label(c), style=styles[outcome_of(c)])
            reason = Text(c.reason)
            if line := collapse_line(c):
                reason.append(f"\n{line}", style="yellow")
            table.add_row(Text(c.name), fmt(c.value), f"{c.op or ''} {fmt(c.threshold)}", ci,
                          "" if c.n is None else str(c.n), status, reason)
        out.print(table)
    out.print(Text(split_statement(result), style="dim"))
    for suite, chose, confirmed in split_counts(result.split):
        out.print(Text(f"  {suite}: {chose} selection items chose, {confirmed} confirmation "
                       "items confirmed", style="dim"))
    style = "bold green" if result.verdict == "PROMOTE" else "bold red"
    out.print(Text(f"verdict: {result.verdict}", style=style)
              + Text(f"  selected: {result.selected}" if result.selected else "")
              + Text(f"  chosen: {result.chosen}" if result.chosen and not result.selected
                     else ""))
    for reason in result.reasons:
        out.print(Text(f"  - {reason}"))
    sel = result.selection
    if sel.rule:
        out.print(Text(f"selection: {sel.rule} (from the {sel.source})", style="dim"))


def run(args: argparse.Namespace) -> int:
    from gates import PROMOTE, judge_run, load_policy, write_gate
    from harness.core.console import err
    from harness.core.errors import EXIT_BLOCKED, EXIT_OK, BadInputError
    from harness.core.lock import RunLock
    from harness.core.rundir import RunDir, is_model_tag
    from reports.releases import is_release_ref, resolve_ref

    run_dir = RunDir(args.run_dir)
    if not run_dir.root.is_dir():
        raise BadInputError("run directory not found", where=args.run_dir)
    baseline = None
    baseline_tag = args.baseline_tag
    if is_release_ref(args.baseline):
        release = resolve_ref(args.baseline, args.registry)
        baseline, baseline_tag = release.folder, baseline_tag or release.tag
        err.print(f"baseline: release {release.version} ({release.tag} of "
                  f"{release.entry.get('run_id')})")
    elif args.baseline:
        baseline = RunDir(args.baseline)
        if not baseline.root.is_dir():
            raise BadInputError("baseline run directory not found", where=args.baseline)
    tags = None
    if args.tags:
        tags = [t.strip() for t in args.tags.split(",") if t.strip()]
        bad = [t for t in tags if not is_model_tag(t)]
        if bad or not tags:
            raise BadInputError(f"--tags: not a model tag: {', '.join(bad) or '(empty)'} "
                                "(base, final or checkpoint-N)")
    if args.baseline_tag and not is_model_tag(args.baseline_tag):
        raise BadInputError(f"--baseline-tag: not a model tag: '{args.baseline_tag}'")
    policy = load_policy(args.policy or _run_policy_name(run_dir))
    rule, source = _selection(args, run_dir)
    err.print(f"judging {run_dir.root} with policy '{policy.name}' ({policy.path})")
    with RunLock(run_dir.root):
        result = judge_run(run_dir, policy, baseline=baseline, tags=tags,
                           baseline_tag=baseline_tag, selection=rule,
                           selection_source=source)
        path = write_gate(run_dir, result, junit_path=args.junit)
    print_result(result)
    err.print(f"wrote {path}, {args.junit or run_dir.report_dir / 'junit.xml'}, "
              f"{run_dir.report_dir / 'summary.md'}")
    return EXIT_OK if result.verdict == PROMOTE else EXIT_BLOCKED
