"""Expert review of a run: draw the sample each reviewer reads, import their review files.

`medgate review sample --run-dir DIR` stores reviews/sample.json: a stratified random
sample of the judged records, sized to estimate the judge's error rate to --precision,
plus every record the judge flagged critical; its seed is recorded.

`medgate review import --run-dir DIR FILE...` checks every review file against the run
(malformed, stale, naming unknown items or by a reviewer whose role is not one of the
run's report.medical_roles: exit 2, nothing stored), stores them in
reviews/, writes reviews/summary.json (judge-expert and inter-reviewer kappa, rates with
the experts' labels and corrected for the judge's measured errors), re-gates the run with
the policy and selection rule of its last gate (experts' labels override the judge's on
the records they reviewed) and re-renders the reports. Exit 0 PROMOTE, 1 BLOCK.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from gates import PROMOTE, judge_run, load_policy, read_gate, write_gate
from gates.review import read_reviews, reviews_dir, store_review, validate_review
from gates.review_stats import review_summary
from harness.core.atomic import write_json
from harness.core.console import err, out
from harness.core.errors import EXIT_BLOCKED, EXIT_OK, BadInputError
from harness.core.lock import RunLock
from harness.core.rundir import RunDir
from reports import render_all
from reports.review_sample import draw_sample
from reports.rundata import is_run_dir, load_run
from reports.signoff import is_medical_role, medical_roles


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    sample = sub.add_parser("sample", help="draw and store the records reviewers should read")
    sample.add_argument("--run-dir", required=True)
    sample.add_argument("--precision", type=float, default=0.1,
                        help="CI half-width the judge's error rate is estimated to (0.1)")
    sample.add_argument("--confidence", type=float, default=0.95)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--tag", help="model to sample (default: the one the reports describe)")
    imp = sub.add_parser("import", help="validate and store review files, then re-gate")
    imp.add_argument("--run-dir", required=True)
    imp.add_argument("files", nargs="+", metavar="FILE", help="review files from the explorer")
    imp.add_argument("--policy", metavar="FILE|NAME",
                     help="policy to re-gate with (default: the one of the run's gate.json)")


def _run(path: str) -> RunDir:
    run = RunDir(path)
    if not is_run_dir(run.root):
        raise BadInputError("not a medgate run directory", where=path)
    return run


def _sample(args: argparse.Namespace) -> int:
    run = _run(args.run_dir)
    with RunLock(run.root):
        sample = draw_sample(run.root, precision=args.precision, confidence=args.confidence,
                             seed=args.seed, tag=args.tag)
        render_all(run.root)
    err.print(f"{len(sample['items'])} records of {sample['tag']} to review "
              f"({sample['n_stratified']} stratified of {sample['population']} judged, to "
              f"±{sample['precision']:g} at {sample['confidence']:g}; seed {sample['seed']}; "
              f"{len(sample['strata'])} strata)", highlight=False)
    out.print(str(reviews_dir(run) / "sample.json"), highlight=False)
    return EXIT_OK


def _fmt(x: Any) -> str:
    return "—" if x is None else f"{x:.3f}"


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(title="judge-expert agreement (Cohen's kappa)", title_justify="left")
    for col in ("suite", "category", "label", "n", "kappa", "CI", "disagreements"):
        table.add_column(col)
    for row in summary["judge_expert"]:
        if row["category"] != "all" and not row["disagreements"]:
            continue  # every row is in reviews/summary.json; printed: suites, disagreements
        table.add_row(row["suite"], row["category"], row["label"], str(row["n"]),
                      _fmt(row["value"]), f"[{_fmt(row['ci'][0])}, {_fmt(row['ci'][1])}]",
                      str(row["disagreements"]))
    out.print(table)
    for row in summary["inter_reviewer"]:
        out.print(f"inter-reviewer agreement on {row['label']}: Fleiss' kappa "
                  f"{_fmt(row['kappa'])} ({row['raters']} reviewers, {row['n']} records)",
                  highlight=False)
    for row in summary["rates"]:
        c = row["corrected"]
        out.print(f"{row['tag']} {row['suite']}.{row['metric']}: judge "
                  f"{_fmt(row['judge']['value'])}, with experts' labels "
                  f"{_fmt(row['adjudicated']['value'])} ({row['adjudicated']['events']}/"
                  f"{row['n']}), corrected {_fmt(c['value'])} "
                  f"[{_fmt(c['ci'][0])}, {_fmt(c['ci'][1])}] ({c['reviewed']} reviewed)",
                  highlight=False)


def _import(args: argparse.Namespace) -> int:
    run = _run(args.run_dir)
    if not run.gate.exists():
        raise BadInputError("no gate.json: run `medgate gate` before importing reviews",
                            where=str(run.gate))
    previous = read_gate(run.gate)
    policy = load_policy(args.policy or previous.policy.path or "default")
    selection = previous.selection
    rule = selection.rule if selection.source in ("config", "cli") else None
    with RunLock(run.root):
        reviews = [validate_review(path, run) for path in args.files]  # all, before storing
        roles = medical_roles(load_run(run.root).config, str(run.config))
        for path, review in zip(args.files, reviews):
            if not is_medical_role(review.role, roles):
                # Their labels would override the judge's: only medical reviewers may.
                raise BadInputError(f"role '{review.role}' is not a medical role of this run "
                                    f"(report.medical_roles: {', '.join(roles)})", where=path)
        for review in reviews:
            err.print(f"stored {store_review(run, review)} ({review.reviewer}, {review.role}: "
                      f"{len(review.entries)} records)", highlight=False)
        stored = read_reviews(run)
        summary = review_summary(run, stored, seed=policy.seed, confidence=policy.confidence)
        write_json(reviews_dir(run) / "summary.json", summary)
        ref = previous.baseline
        baseline = RunDir(ref.run_dir) if ref.run_dir and ref.run_dir != str(run.root) else None
        result = judge_run(run, policy, baseline=baseline, baseline_tag=ref.tag if baseline
                           else None, tags=list(previous.checkpoints) or None,
                           selection=rule, selection_source=selection.source or "config")
        write_gate(run, result)
        render_all(run.root)
    _print_summary(summary)
    style = "bold green" if result.verdict == PROMOTE else "bold red"
    out.print(f"[{style}]verdict: {result.verdict}[/]" + (f"  selected: {result.selected}"
                                                          if result.selected else ""))
    for reason in result.reasons:
        out.print(f"  - {reason}", highlight=False, markup=False)
    return EXIT_OK if result.verdict == PROMOTE else EXIT_BLOCKED


def run(args: argparse.Namespace) -> int:
    return _sample(args) if args.review_command == "sample" else _import(args)
