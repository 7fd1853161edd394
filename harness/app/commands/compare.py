"""Compare two runs metric by metric: paired bootstrap CI and McNemar p where items match.

Each side is a run directory and a model tag (default: the run's promoted checkpoint,
else its last evaluated model). Differences are B - A. Writes report/compare.json in B.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="DIR_A", help="run directory A (the reference)")
    parser.add_argument("run_b", metavar="DIR_B", help="run directory B")
    parser.add_argument("--tag-a", help="model tag in A (base, checkpoint-N, final)")
    parser.add_argument("--tag-b", help="model tag in B")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--out", help="where to write the comparison JSON "
                                      "(default DIR_B/report/compare.json)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.table import Table
    from rich.text import Text

    from gates.checks import fmt
    from gates.compare import compare_models, default_tag
    from gates.evidence import EvidenceError, ModelEvidence
    from harness.core.atomic import write_json
    from harness.core.console import err, out
    from harness.core.errors import BadInputError
    from harness.core.rundir import RunDir

    if args.n_boot < 100:
        raise BadInputError(f"--n-boot must be at least 100, got {args.n_boot}")
    sides = []
    for label, path, tag in (("A", args.run_a, args.tag_a), ("B", args.run_b, args.tag_b)):
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
    path = Path(args.out) if args.out else run_b.report_dir / "compare.json"
    write_json(path, {"a": {"run_dir": str(run_a.root), "tag": tag_a},
                      "b": {"run_dir": str(run_b.root), "tag": tag_b},
                      "difference": "B - A", "confidence": 0.95, "n_boot": args.n_boot,
                      "rows": [r.as_dict() for r in rows]})
    err.print(f"wrote {path}")
    return 0
