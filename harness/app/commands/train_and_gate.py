"""Fine-tune, evaluate and gate every checkpoint, then promote the best passing one or BLOCK.

With no config this runs the embedded default: SmolLM2-135M-Instruct, the bundled demo
data and the default gate policy. Exit code 0 PROMOTE, 1 BLOCK, 2 bad input, 3 failure.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.app.commands.run_options import add_run_options, config_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser, resume_help="continue a killed run in --run-dir from what it "
                                        "already wrote")


def run(args: argparse.Namespace) -> int:
    from harness.app.judge_check import check_llm_judges
    from harness.app.pipeline import run_pipeline
    from harness.core.console import err, out
    from harness.core.errors import BadInputError
    from harness.core.lock import RunLock
    from harness.core.rundir import RunDir

    config = config_from_args(args)
    check_llm_judges(config.evaluation)  # before a run directory or any model
    if args.resume and not args.run_dir:
        raise BadInputError("--resume needs --run-dir: the run to continue")
    root = args.run_dir or config.output.run_dir
    if args.resume and not Path(root).is_dir():
        raise BadInputError("--resume: no such run directory to continue", where=str(root))
    run_dir = RunDir.create(root, parent=config.output.runs_root)
    err.print(f"run directory: [bold]{run_dir.root}[/]")
    with RunLock(run_dir.root):
        outcome = run_pipeline(config, run_dir, resume=args.resume)
    colour = "green" if outcome.verdict == "PROMOTE" else "red"
    out.print(f"[bold {colour}]{outcome.verdict}[/]" +
              (f" {outcome.selected}" if outcome.selected else ""))
    for reason in outcome.reasons:
        out.print(f"  - {reason}", highlight=False)
    out.print(f"gate: {run_dir.gate}")
    out.print(f"reports: {run_dir.report_dir}")
    return outcome.exit_code
