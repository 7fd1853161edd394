"""Record a reviewer's decision on a run, bound to the sha256 of gate.json and of every
records file, then re-render the checklist. A later change to that evidence makes the
sign-off stale."""

from __future__ import annotations

import argparse

from harness.core.console import err, out
from harness.core.lock import locked_if_exists
from reports import record_signoff, render_all


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", required=True, help="the run directory being signed")
    parser.add_argument("--reviewer", required=True, help="the reviewer's name")
    parser.add_argument("--role", required=True,
                        help="e.g. physician, pharmacist, regulatory affairs")
    parser.add_argument("--decision", required=True, choices=["approve", "reject"])
    parser.add_argument("--note", default="", help="free-text justification")


def run(args: argparse.Namespace) -> int:
    with locked_if_exists(args.run_dir):
        path = record_signoff(args.run_dir, reviewer=args.reviewer, role=args.role,
                              decision=args.decision, note=args.note)
        out.print(str(path), highlight=False)
        rendered = render_all(args.run_dir)
    review = rendered.review
    err.print(f"fresh approvals {len(review.approvals)}/{review.required}, "
              f"rejections {len(review.rejections)}, stale {len(review.stale)}; "
              f"checklist re-rendered: {rendered.paths['checklist.html']}")
    return 0
