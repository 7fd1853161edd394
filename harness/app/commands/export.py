"""Write the regulatory documentation bundle of a run (--out bundle.zip), or check one
(--verify bundle.zip). Verification exits 0 when every byte matches its manifest and
1 when anything changed, naming the file; 2 when the bundle path does not exist."""

from __future__ import annotations

import argparse

from harness.core.console import err, out
from harness.core.errors import EXIT_BAD_INPUT, EXIT_BLOCKED
from harness.core.lock import locked_if_exists
from reports import build_bundle, verify_bundle
from reports.export import bundle_manifest


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", help="the run directory to export")
    parser.add_argument("--out", help="the zip file to write")
    parser.add_argument("--verify", metavar="BUNDLE", help="check a bundle instead of writing one")


def run(args: argparse.Namespace) -> int:
    if args.verify:
        result = verify_bundle(args.verify)
        if result.ok:
            out.print(f"OK {args.verify}: {result.files} files match MANIFEST.sha256.json",
                      highlight=False)
            return 0
        for problem in result.problems:
            out.print(f"FAIL {problem}", highlight=False, markup=False)
        return EXIT_BLOCKED
    if not args.run_dir or not args.out:
        err.print("[bold red]error:[/] export needs --run-dir DIR --out bundle.zip, "
                  "or --verify bundle.zip")
        return EXIT_BAD_INPUT
    with locked_if_exists(args.run_dir):  # no bundle of a run another process is writing
        path = build_bundle(args.run_dir, args.out)
    check = verify_bundle(path)
    if not check.ok:
        err.print("[bold red]internal error:[/] the bundle just written does not verify: "
                  + "; ".join(check.problems), markup=False)
        return 3
    out.print(str(path), highlight=False)
    err.print(f"{check.files} files, verified")
    pdf = bundle_manifest(path).get("pdf") or {}
    if pdf.get("missing"):
        err.print(f"[yellow]no PDF of {', '.join(pdf['missing'])}:[/] {pdf.get('reason')}",
                  highlight=False)
    return 0
