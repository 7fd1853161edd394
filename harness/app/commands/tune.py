"""Search hyperparameters with Optuna, the gate as the constraint; promote the best feasible
trial with the full confirmation gate, or BLOCK saying why each trial failed.

Each trial is a gated run under STUDY_DIR/trials/. The study is kept in STUDY_DIR/study.db
(a study killed and started again continues) or, with --storage URL (PostgreSQL), in a
database that workers on several machines share. Exit code 0 PROMOTE, 1 BLOCK, 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from harness.app.defaults import load_default_config
from harness.core.config import MedgateConfig, load_config
from harness.core.errors import EXIT_BLOCKED, EXIT_OK, BadInputError
from harness.core.secrets import register_secret

STORAGE_ENV = "MEDGATE_TUNE_STORAGE"  # how a started worker gets the URL (not on its argv)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", help="medgate.yaml (default: the embedded demo config)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override any config key for every trial (repeatable)")
    parser.add_argument("--space", required=True, help="search space YAML: config keys to "
                        "distributions ({low, high, log, step} or {choices})")
    parser.add_argument("--trials", type=int, required=True, help="trials the study runs in all")
    parser.add_argument("--study-dir", help="study folder (default: studies/<time>)")
    parser.add_argument("--storage", help="database URL shared by workers, e.g. "
                        "postgresql://user@host/db (default: STUDY_DIR/study.db)")
    parser.add_argument("--study-name", help="the study's name in the storage (default: the "
                        "study folder's name)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes on this "
                        "machine (default 1)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)


def _config_for(args: argparse.Namespace):
    from suites.registry import apply_config

    def config_for(extra: list[str]) -> MedgateConfig:
        overrides = [*args.overrides, *extra]
        config = (load_config(args.config, overrides) if args.config
                  else load_default_config(overrides))
        register_secret(config.hf_token())
        apply_config(config.evaluation)
        return config

    return config_for


def _worker_argv(args: argparse.Namespace, study_dir: Path) -> list[str]:
    argv = ["tune", "--space", str(Path(args.space).resolve()), "--trials", str(args.trials),
            "--study-dir", str(study_dir.resolve())]
    if args.config:
        argv += ["-c", str(Path(args.config).resolve())]
    if args.study_name:
        argv += ["--study-name", args.study_name]
    for assignment in args.overrides:
        argv += ["--set", assignment]
    return argv


def run(args: argparse.Namespace) -> int:
    from harness.app.tune import Study, read_space
    from harness.core.console import err, out

    if args.trials < 1:
        raise BadInputError(f"--trials must be at least 1, got {args.trials}")
    if args.workers < 1:
        raise BadInputError(f"--workers must be at least 1, got {args.workers}")
    storage = args.storage or (os.environ.get(STORAGE_ENV) if args.worker else None)
    if storage:
        os.environ[STORAGE_ENV] = storage  # for the workers this process starts
    study_dir = Path(args.study_dir or Path("studies") / time.strftime("tune-%Y%m%d-%H%M%S"))
    study = Study(read_space(args.space), _config_for(args), study_dir, args.trials,
                  storage_url=storage, name=args.study_name)
    err.print(f"study [bold]{study.study_name}[/] in {study_dir} ({args.trials} trials, "
              f"{args.workers} worker(s) here)")
    outcome = study.run(workers=args.workers, worker_argv=_worker_argv(args, study_dir),
                        worker=args.worker)
    if outcome.verdict == "RUNNING":
        return EXIT_OK
    colour = "green" if outcome.verdict == "PROMOTE" else "red"
    out.print(f"[bold {colour}]{outcome.verdict}[/]" +
              (f" trial {outcome.best_trial}" if outcome.best_trial is not None else ""))
    for reason in outcome.reasons:
        out.print(f"  - {reason}", highlight=False)
    out.print(f"study: {outcome.result_path}")
    out.print(f"report: {study_dir / 'report' / 'study.html'}")
    return EXIT_OK if outcome.verdict == "PROMOTE" else EXIT_BLOCKED
