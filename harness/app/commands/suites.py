"""List the registered evaluation suites: kind, metrics, default data and whether it is demo data."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the specs as JSON")


def run(args: argparse.Namespace) -> int:
    import json

    from rich.table import Table

    from harness.core.console import out
    from suites.registry import default_data_path, list_specs

    specs = list_specs()
    if args.json:
        out.print_json(json.dumps([{
            "name": s.name, "kind": s.kind, "metrics": list(s.metrics),
            "loader": s.loader, "prompt_format": s.prompt_format,
            "default_data": str(default_data_path(s)) if s.default_data else None,
            "demo": s.demo and bool(s.default_data), "description": s.description,
        } for s in specs]))
        return 0
    table = Table(title="medgate suites")
    for column in ("suite", "kind", "metrics", "default data", "description"):
        table.add_column(column, overflow="fold")
    for s in specs:
        if s.default_data:
            path = default_data_path(s)
            default = s.default_data + (" (demo data)" if s.demo else "")
            if path is not None and not path.exists():
                default += " (missing)"
        else:
            default = f"none: --data {s.name}=PATH"
        table.add_row(s.name, s.kind, ", ".join(s.metrics), default, _first_sentence(s.description))
    out.print(table)
    return 0


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition(". ")
    return head + ("." if sep else "")
