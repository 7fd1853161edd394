"""Fine-tune, evaluate and gate every checkpoint, then promote the best passing one or BLOCK.

With no config this runs the embedded default: SmolLM2-135M-Instruct, the bundled demo
data and the default gate policy. Exit code 0 PROMOTE, 1 BLOCK, 2 bad input, 3 failure.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness.app.commands.run_options import add_run_options, config_from_args
from harness.core.errors import BadInputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser, resume_help="continue a killed run in --run-dir from what it "
                                        "already wrote")
    parser.add_argument("--exhaustive", action="store_true",
                        help="score every item of every suite for every model (default: "
                             "stop a suite once no gate check needs more of it, and score "
                             "the confirmation items for the chosen checkpoint only; "
                             "evaluation.exhaustive)")


def refuse_distributed_launch(environ: dict[str, str] | None = None) -> None:
    """Refuse a launch by torchrun (or any launcher setting WORLD_SIZE/RANK) with more than
    one process: every rank would run the whole pipeline, and all but one would stop at
    the run's lock. Training alone runs distributed (`medgate train`); evaluating and
    gating its result is one process's work."""
    env = os.environ if environ is None else environ
    values = {}
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        raw = env.get(name, "").strip()
        if not raw:
            continue
        try:
            values[name] = int(raw)
        except ValueError:
            raise BadInputError(f"environment variable {name}={raw!r} is not a number") from None
    if values.get("WORLD_SIZE", 1) <= 1 and not values.get("RANK") and not values.get("LOCAL_RANK"):
        return
    seen = ", ".join(f"{k}={v}" for k, v in values.items())
    raise BadInputError(
        f"train-and-gate runs as one process, but this is a distributed launch ({seen}): every "
        "process would run the whole pipeline and all but one would stop at the run's lock. "
        "Train with several processes, then evaluate and gate in one: "
        "`torchrun --nproc_per_node N -m harness.app.cli train -c medgate.yaml --run-dir RUN`; "
        "then `medgate eval -c medgate.yaml --run-dir RUN --tag base` and, for each checkpoint, "
        "`medgate eval -c medgate.yaml --run-dir RUN --tag checkpoint-N --adapter "
        "RUN/checkpoints/checkpoint-N` (with peft.method full: `--model "
        "RUN/checkpoints/checkpoint-N` instead of --adapter); then `medgate gate --run-dir RUN`. "
        "That path has no data preflight (PHI, overlap with the suites): train-and-gate alone "
        "runs it.")


def run(args: argparse.Namespace) -> int:
    refuse_distributed_launch()  # before the config, the run directory or its lock
    from harness.app.judge_check import check_llm_judges
    from harness.app.pipeline import run_pipeline
    from harness.app.tracking import log_run
    from harness.core.console import err, out
    from harness.core.lock import RunLock
    from harness.core.rundir import RunDir

    config = config_from_args(args)
    if args.exhaustive:
        config.evaluation.exhaustive = True
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
    log_run(config, run_dir)  # MLflow, when tracking.enabled
    colour = "green" if outcome.verdict == "PROMOTE" else "red"
    out.print(f"[bold {colour}]{outcome.verdict}[/]" +
              (f" {outcome.selected}" if outcome.selected else ""))
    for reason in outcome.reasons:
        out.print(f"  - {reason}", highlight=False)
    out.print(f"gate: {run_dir.gate}")
    out.print(f"reports: {run_dir.report_dir}")
    return outcome.exit_code
