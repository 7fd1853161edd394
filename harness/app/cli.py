"""The `medgate` command line.

Each sub-command lives in harness/app/commands/<name>.py with `add_arguments(parser)` and
`run(args) -> int`; this module only dispatches and turns errors into the exit codes of
the CLI contract (0 success/PROMOTE, 1 BLOCK, 2 bad input, 3 internal failure).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence

from rich.markup import escape

from harness.core.console import err
from harness.core.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, MedgateError
from harness.core.secrets import redact

# name -> (module, one-line help). Order is the order `medgate --help` lists them in.
COMMANDS: dict[str, tuple[str, str]] = {
    "train-and-gate": ("train_and_gate", "preflight, baseline, train, gate every checkpoint, promote or block"),
    "tune": ("tune", "search hyperparameters with the gate as constraint (Optuna), promote the best"),
    "train": ("train", "fine-tune a model (LoRA, QLoRA, prefix, IA3 or full)"),
    "eval": ("eval", "score a model on suites and write records and a summary"),
    "gate": ("gate", "judge a run's records with a policy (exit 0 PROMOTE, 1 BLOCK)"),
    "report": ("report", "render the model card, checklist and evidence explorer"),
    "export": ("export", "write or verify the regulatory documentation bundle"),
    "signoff": ("signoff", "record a reviewer's decision bound to the evidence"),
    "review": ("review", "draw the expert review sample; import review files and re-gate"),
    "compare": ("compare", "compare two runs metric by metric with paired statistics"),
    "plan": ("plan", "estimate training memory and recommend settings for a GPU"),
    "init": ("init", "write a commented starter medgate.yaml"),
    "suites": ("suites", "list the registered evaluation suites"),
    "release": ("release", "register a promoted run as a version in the release registry"),
    "publish": ("publish", "push a release to the Hugging Face Hub and an MLflow registry"),
    "data": ("data", "build instruction-tuning data from clinical records with the task templates"),
}


def _available() -> dict[str, tuple[str, str]]:
    return {name: spec for name, spec in COMMANDS.items()
            if importlib.util.find_spec(f"harness.app.commands.{spec[0]}") is not None}


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command argparse will dispatch to: the first argument that is no option
    (the top level has only flags, `--debug` and `--help`, none taking a value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `command`'s module is imported and adds its options.

    Lazy on purpose: the command modules import their layers at their tops (config and
    pydantic, suites, gates and scipy, reports and jinja2, the trainer); importing them all
    took 0.44 s warm on the 2-core development machine, and far more cold. Importing only
    the chosen one brought `medgate --help` from 0.43 s to 0.14 s wall (median of 9;
    `python -X importtime -m harness.app.cli --help`: 390 ms of imports to 100 ms).
    """
    parser = argparse.ArgumentParser(
        prog="medgate",
        description="Evaluation and safety gating for medical LLM fine-tuning.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in _available().items():
        if name != command:
            sub.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(f"harness.app.commands.{module_name}")
        cmd = sub.add_parser(name, help=help_text, description=(module.__doc__ or help_text).strip())
        module.add_arguments(cmd)
        cmd.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_chosen_command(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args._module.run(args) or 0)
    except MedgateError as exc:
        # escape: a message quotes user input, which may contain rich markup like "[x]"
        err.print(f"[bold red]error:[/] {escape(redact(str(exc)))}", highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        return 130
    except Exception as exc:  # the contract: exit 3, not a bare traceback
        if args.debug:
            raise
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {escape(redact(str(exc)))}",
                  highlight=False)
        err.print("run again with --debug for the traceback", style="dim")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
