"""Compare two runs metric by metric: paired bootstrap CI and McNemar p where items match.

Each side is a run directory and a model tag (default: the run's promoted checkpoint,
else its last evaluated model), or a release (release:1.0.0, release:latest: its released
model). Differences are B - A. When both sides have a gate.json the changelog of the
gate's checks follows (what newly passes, newly fails). Writes report/compare.json in B,
or REGISTRY/compare/A..B.json when B is a release (a release's folder is not changed).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="DIR_A",
                        help="run directory A (the reference), or release:VERSION")
    parser.add_argument("run_b", metavar="DIR_B", help="run directory B, or release:VERSION")
    parser.add_argument("--registry", default="registry",
                        help="release registry for release:... sides (default: registry/)")
    parser.add_argument("--tag-a", help="model tag in A (base, checkpoint-N, final)")
    parser.add_argument("--tag-b", help="model tag in B")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--out", help="where to write the comparison JSON "
                                      "(default DIR_B/report/compare.json)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.table import Table
    from rich.text import Text

    from gates.changelog import check_changelog
    from gates.checks import fmt
    from gates.compare import compare_models, default_tag
    from gates.evidence import EvidenceError, ModelEvidence
    from gates.result import read_gate
    from harness.core.atomic import write_json
    from harness.core.console import err, out
    from harness.core.errors import BadInputError
    from harness.core.rundir import RunDir
    from reports.releases import is_release_ref, resolve_ref

    if args.n_boot < 100:
        raise BadInputError(f"--n-boot must be at least 100, got {args.n_boot}")
    sides = []
    releases = {}
    for label, path, tag in (("A", args.run_a, args.tag_a), ("B", args.run_b, args.tag_b)):
        if is_release_ref(path):
            release = resolve_ref(path, args.registry)
            releases[label] = release
            path, tag = release.folder.root, tag or release.tag
        run_dir = RunDir(path)
        if not run_dir.root.is_dir():
            raise BadInputError("run directory not found", where=str(path))
        tag = tag or default_tag(run_dir)
        if tag is None or not run_dir.eval_dir(tag).is_dir():
            raise BadInputError(f"no evaluation for model tag '{tag}' "
                                f"(have: {', '.join(run_dir.model_tags()) or 'none'})",
                                where=str(run_dir.evals_dir))
        sides.append((run_dir, tag, ModelEvidence(run_dir.eval_dir(tag), f"{label} {tag}")))
    (run_a, tag_a, ev_a), (run_b, tag_b, ev_b) = sides
    err.print(f"comparing A={run_a.root}/{tag_a} with B={run_b.root}/{tag_b}")
    try:
        rows = compare_models(ev_a, ev_b, n_boot=args.n_boot)
    except EvidenceError as exc:
        raise BadInputError(str(exc)) from exc

    table = Table(title=f"B - A: {run_b.root.name}/{tag_b} vs {run_a.root.name}/{tag_a}")
    for col in ("suite", "metric", "A", "B", "B - A", "95% CI", "McNemar p", "n", "signif.",
                "method"):
        table.add_column(col, no_wrap=col not in ("metric", "method"), overflow="fold")
    for r in rows:
        sig = "" if r.significant is None else ("yes" if r.significant else "no")
        ci = f"[{fmt(r.ci[0])}, {fmt(r.ci[1])}]" if r.ci else ""
        table.add_row(Text(r.suite), Text(r.metric), fmt(r.a) if r.a is not None else "",
                      fmt(r.b) if r.b is not None else "",
                      fmt(r.diff) if r.diff is not None else "", ci,
                      fmt(r.p_value) if r.p_value is not None else "",
                      str(r.n) if r.n is not None else "", sig,
                      Text(r.method.split(" (")[0]))
    out.print(table)
    out.print("paired: bootstrap CI of B - A over the same items and McNemar's exact p; "
              "summary: no per-item data, difference shown but not tested. Notes per row are "
              "in the JSON.", style="dim")
    changes = None
    if run_a.gate.is_file() and run_b.gate.is_file():
        changes = check_changelog(read_gate(run_a.gate), read_gate(run_b.gate))
        print_changelog(changes)
    if args.out:
        path = Path(args.out)
    elif "B" in releases:  # a release folder is evidence as released: write beside it
        a_name = releases["A"].version if "A" in releases else run_a.root.name
        path = Path(args.registry) / "compare" / f"{a_name}..{releases['B'].version}.json"
    else:
        path = run_b.report_dir / "compare.json"
    write_json(path, {"a": {"run_dir": str(run_a.root), "tag": tag_a,
                            "release": releases["A"].version if "A" in releases else None},
                      "b": {"run_dir": str(run_b.root), "tag": tag_b,
                            "release": releases["B"].version if "B" in releases else None},
                      "difference": "B - A", "confidence": 0.95, "n_boot": args.n_boot,
                      "rows": [r.as_dict() for r in rows],
                      "checks_changed": [c.as_dict() for c in changes]
                      if changes is not None else None})
    err.print(f"wrote {path}")
    return 0


def print_changelog(changes) -> None:
    """The gate's checks from A to B: what newly passes, newly fails, appeared, went."""
    from rich.table import Table
    from rich.text import Text

    from gates.checks import fmt
    from harness.core.console import out

    styles = {"newly passes": "green", "newly fails": "bold red", "added": "yellow",
              "removed": "yellow"}
    table = Table(title="gate checks, A -> B (each side's deciding verdict)",
                  title_justify="left")
    for col in ("check", "A", "B", "change"):
        table.add_column(col, overflow="fold")
    for c in changes:
        value = (f"{c.a or '-'} ({fmt(c.a_value)})", f"{c.b or '-'} ({fmt(c.b_value)})")
        table.add_row(Text(c.name), *value, Text(c.change, style=styles.get(c.change, "")))
    out.print(table)
