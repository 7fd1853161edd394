"""List the registered evaluation suites: roles (tags), kind, metrics, default data, options.

The bundled specs and the user's (MEDGATE_SUITE_PATH, a list of spec files or folders
separated like PATH; `-c` reads a config's `evaluation.suite_specs` too). `--json` prints
every field a script needs; `--tag T` keeps the suites with role T. Groups (names that
stand for several suites, e.g. medical-leaderboard) are listed after the suites; in
`--json` they are entries of kind "group" with their members and tasks.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.table import Table

from harness.core.config import load_config
from harness.core.console import out
from suites.base import SuiteSpec
from suites.groups import GroupSpec
from suites.registry import (
    SPEC_PATH_ENV,
    TAGS,
    check_tag,
    default_data_path,
    list_groups,
    list_specs,
    options_schema,
    use_spec_paths,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the specs as JSON")
    parser.add_argument("--tag", metavar="TAG", help=f"only suites with this role: "
                        f"{', '.join(TAGS)}")
    parser.add_argument("-c", "--config", help=f"medgate.yaml whose evaluation.suite_specs to "
                        f"list too (also read: ${SPEC_PATH_ENV})")


def spec_json(spec: SuiteSpec) -> dict[str, Any]:
    """Everything a script needs to know about a suite, as plain JSON."""
    return {
        "name": spec.name, "kind": spec.kind, "tags": list(spec.tags),
        "metrics": list(spec.metrics), "loader": spec.loader,
        "prompt_format": spec.prompt_format,
        "default_data": str(default_data_path(spec)) if spec.default_data else None,
        "demo": spec.demo and bool(spec.default_data), "description": spec.description,
        "class": spec.cls, "options": spec.options, "accepted_options": options_schema(spec),
        "spec_file": str(spec.path) if spec.path else None,
    }


def group_json(group: GroupSpec) -> dict[str, Any]:
    """A group in the shape of a suite entry (scripts read one list), plus its members
    and tasks ({task: {"score": "suite.metric", "items": published item count}})."""
    return {
        "name": group.name, "kind": "group", "tags": [], "metrics": [], "loader": None,
        "prompt_format": None, "default_data": None, "demo": False,
        "description": group.description, "class": None, "options": {},
        "accepted_options": {}, "spec_file": str(group.path) if group.path else None,
        "members": list(group.members),
        "tasks": {t.name: {"score": f"{t.suite}.{t.metric}", "items": t.items}
                  for t in group.tasks},
        "conditions": dict(group.conditions),
    }


def run(args: argparse.Namespace) -> int:
    if args.tag is not None:
        check_tag(args.tag)
    if args.config:
        use_spec_paths(load_config(args.config).evaluation.suite_specs)
    specs = list_specs(args.tag)
    groups = list_groups() if args.tag is None else []
    if args.json:
        out.print_json(json.dumps([spec_json(s) for s in specs]
                                  + [group_json(g) for g in groups]))
        return 0
    title = "medgate suites" + (f" tagged {args.tag}" if args.tag else "")
    table = Table(title=title)
    # Names are what a user types back (--suites NAME): never wrapped, whatever the width.
    for column in ("tags", "suite", "kind", "metrics", "default data", "description"):
        table.add_column(column, overflow="fold", no_wrap=column == "suite")
    order = list(TAGS)
    # Grouped by role: each suite under its first tag, in the vocabulary's order.
    for s in sorted(specs, key=lambda s: order.index(s.tags[0]) if s.tags else len(order)):
        if s.default_data:
            path = default_data_path(s)
            default = s.default_data + (" (demo data)" if s.demo else "")
            if path is not None and not path.exists():
                default += " (missing)"
        else:
            default = f"none: --data {s.name}=PATH"
        table.add_row(", ".join(s.tags) or "—", s.name, s.kind, ", ".join(s.metrics), default,
                      _first_sentence(s.description))
    out.print(table)
    if groups:
        listing = Table(title="groups (--suites NAME runs the members)")
        for column in ("group", "members", "tasks", "description"):
            listing.add_column(column, overflow="fold", no_wrap=column == "group")
        for g in groups:
            listing.add_row(g.name, ", ".join(g.members), ", ".join(t.name for t in g.tasks),
                            _first_sentence(g.description))
        out.print(listing)
    return 0


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition(". ")
    return head + ("." if sep else "")
