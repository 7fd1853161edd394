"""Render the model card (html, md, json), the pre-deployment checklist and the evidence
explorer of a run directory into DIR/report/. Reads only the run directory."""

from __future__ import annotations

import argparse

from harness.core.console import err, out
from harness.core.lock import locked_if_exists
from reports import render_all


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", required=True, help="the run directory to render")


def run(args: argparse.Namespace) -> int:
    err.print(f"rendering reports for {args.run_dir}")
    with locked_if_exists(args.run_dir):
        rendered = render_all(args.run_dir)
    for path in rendered.paths.values():
        out.print(str(path), highlight=False)
    counts = {s: sum(i.status == s for i in rendered.items) for s in ("pass", "fail", "pending")}
    err.print(f"checklist: {counts['pass']} pass, {counts['fail']} fail, {counts['pending']} pending")
    return 0
