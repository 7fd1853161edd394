"""Record a reviewer's decision on a run, bound to the sha256 of gate.json and of every
records file, then re-render the checklist. A later change to that evidence makes the
sign-off stale.

The expert review counts distinct reviewers whose role is one of the run's
`report.medical_roles` (its config.resolved.yaml); a reviewer signing with another role
is told at once that the sign-off does not count toward it."""

from __future__ import annotations

import argparse

from harness.core.console import err, out
from harness.core.lock import locked_if_exists
from reports import record_signoff, render_all
from reports.signoff import is_medical_role, is_regulatory_role, normalise_reviewer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", required=True, help="the run directory being signed")
    parser.add_argument("--reviewer", required=True, help="the reviewer's name")
    parser.add_argument("--role", required=True,
                        help="e.g. physician, pharmacist, regulatory affairs; the expert review "
                             "counts the run's report.medical_roles only")
    parser.add_argument("--decision", required=True, choices=["approve", "reject"])
    parser.add_argument("--note", default="", help="free-text justification")


def run(args: argparse.Namespace) -> int:
    with locked_if_exists(args.run_dir):
        path = record_signoff(args.run_dir, reviewer=args.reviewer, role=args.role,
                              decision=args.decision, note=args.note)
        out.print(str(path), highlight=False)
        rendered = render_all(args.run_dir)
    review = rendered.review
    if not is_medical_role(args.role, review.medical_roles):
        counts_for = ("it counts toward the regulatory item instead"
                      if is_regulatory_role(args.role) else "it is recorded but counts for nothing")
        err.print(f"[yellow]note:[/] role '{args.role}' does not count as medical for the expert "
                  f"review ({counts_for}). Medical roles of this run (report.medical_roles): "
                  f"{', '.join(review.medical_roles)}.", highlight=False)
    if any(s.reviewer_key == normalise_reviewer(args.reviewer) for s in review.unreviewed):
        err.print("[yellow]note:[/] this approval does not count toward the expert review: "
                  "the reviewer has not imported a review of the whole review sample "
                  "(reviews/sample.json; `medgate review import`).", highlight=False)
    err.print(f"fresh approvals by distinct medical reviewers {len(review.approvals)}/"
              f"{review.required}, rejections {len(review.rejections)}, "
              f"stale {len(review.stale)}; checklist re-rendered: "
              f"{rendered.paths['checklist.html']}", highlight=False)
    return 0
