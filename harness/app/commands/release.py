"""Release a PROMOTEd run's model as a semantic version in a release registry.

Exit 0 released, 1 refused because the run's gate did not PROMOTE it (the reasons are
printed), 2 bad input: a version that exists, does not come after the latest release, or
is not a major bump although the prompt format, chat template or tokenizer changed.
The run's documents are re-rendered with the chain of releases before they are copied.
"""

from __future__ import annotations

import argparse
from typing import Any

from harness.core.atomic import write_bytes
from harness.core.console import err, out
from harness.core.errors import BadInputError
from harness.core.lock import RunLock
from harness.core.rundir import RunDir
from reports import render_all
from reports.releases import (
    DEFAULT_REGISTRY,
    RELEASE_FILE,
    Registry,
    register,
    write_run_pointer,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", required=True, help="the promoted run to release")
    parser.add_argument("--version", required=True, help="semantic version, e.g. 1.1.0")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY,
                        help=f"release registry folder (default: {DEFAULT_REGISTRY}/)")
    parser.add_argument("--knowledge-cutoff", metavar="YYYY-MM-DD",
                        help="the date after which the model's training data knows nothing")
    parser.add_argument("--notes", help="release notes, shown on the model card")


def run(args: argparse.Namespace) -> int:
    run_dir = RunDir(args.run_dir)
    registry = Registry(args.registry)
    pointer = run_dir.root / RELEASE_FILE
    previous_pointer = pointer.read_bytes() if pointer.is_file() else None

    def document(record: dict[str, Any]) -> None:
        write_run_pointer(run_dir, record)
        render_all(run_dir)

    if not run_dir.root.is_dir():
        raise BadInputError("run directory not found", where=str(run_dir.root))
    with RunLock(run_dir.root):
        try:
            record = register(registry, run_dir, args.version,
                              knowledge_cutoff=args.knowledge_cutoff, notes=args.notes,
                              before_copy=document)
        except BaseException:
            if pointer.is_file() and pointer.read_bytes() != previous_pointer:
                # the release did not happen: the run must not claim it
                if previous_pointer is None:
                    pointer.unlink()
                else:
                    write_bytes(pointer, previous_pointer)
                render_all(run_dir)
            raise
    out.print(f"released {record['version']}: {run_dir.root} ({record['tag']})",
              highlight=False)
    err.print(f"previous release: {record['previous'] or 'none'}; backward compatible: "
              f"{'yes' if record['backward_compatible'] else 'no'}")
    for change in record["incompatible_changes"]:
        err.print(f"  - {change}", highlight=False)
    for key, label in (("checks_newly_pass", "newly passes"),
                       ("checks_newly_fail", "newly fails")):
        for name in record[key]:
            err.print(f"  {label}: {name}", highlight=False)
    err.print(f"wrote {registry.index_path}, {registry.releases_dir / record['version']}")
    return 0

