"""Loaders: a user's file (or a hub dataset) in its real format -> suite items.

A loader is named in a suite spec (`loader: medqa`). Local paths are read with the
format's own parser, which names file, line and field on bad data. `hf:ID[:CONFIG][@SPLIT]`
reads a hub dataset through `datasets` when the hub is reachable; its rows go through
the same parser, so the same checks apply.

A folder is read only by the loaders in FOLDER_LOADERS (MMLU, published as one file per
subject); any other loader given a folder is bad input that says to pass the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.core.errors import BadInputError
from suites.loaders import medmcqa, medqa, mmlu, pubmedqa, text

Loader = Callable[[Path, dict[str, Any] | None], list]

LOADERS: dict[str, Loader] = {
    "medqa": medqa.load,
    "pubmedqa": pubmedqa.load,
    "medmcqa": medmcqa.load,
    "mmlu": mmlu.load,
    "notes": text.load_notes,
    "text": text.load_text,
}

# The options each loader reads ({loader: {option: type}}), accepted and type-checked as
# the options of every suite that uses the loader (suites.registry.accepted_options).
LOADER_OPTIONS: dict[str, dict[str, Any]] = {"medmcqa": medmcqa.OPTIONS}

# Loaders that read a folder as a whole (the benchmark is published as several files).
FOLDER_LOADERS = frozenset({"mmlu"})

_ROW_PARSERS = {"medqa": medqa.parse_row, "pubmedqa": pubmedqa.parse_row, "mmlu": mmlu.parse_row}

HUB_PREFIX = "hf:"


def load_items(loader: str, source: str | Path, options: dict[str, Any] | None = None) -> list:
    """Items of `source` read by the named loader."""
    if loader not in LOADERS:
        raise BadInputError(f"unknown loader '{loader}' (known: {', '.join(sorted(LOADERS))})")
    if isinstance(source, str) and source.startswith(HUB_PREFIX):
        items = _load_hub(loader, source)
    else:
        path = Path(source)
        if path.is_dir() and loader not in FOLDER_LOADERS:
            raise BadInputError(f"loader '{loader}' reads one data file, not a folder: pass "
                                "the file itself (folders are read by: "
                                f"{', '.join(sorted(FOLDER_LOADERS))})", where=str(path))
        items = LOADERS[loader](path, options)
    if not items:  # an empty benchmark would score nothing and look like a result
        raise BadInputError(f"no items in the data (loader '{loader}')", where=str(source))
    return items


def _load_hub(loader: str, source: str) -> list:
    """`hf:ID[:CONFIG][@SPLIT]` through datasets.load_dataset (needs the hub)."""
    if loader not in _ROW_PARSERS:
        raise BadInputError(f"loader '{loader}' reads local files only", where=source)
    spec = source[len(HUB_PREFIX):]
    spec, _, split = spec.partition("@")
    name, _, config = spec.partition(":")
    try:
        import datasets

        rows = datasets.load_dataset(name, config or None, split=split or "test")
    except Exception as exc:
        raise BadInputError(f"cannot load hub dataset ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:200]}); pass a local file with "
                            "--data SUITE=PATH", where=source) from exc
    parse = _ROW_PARSERS[loader]
    return [parse(dict(row), f"{source}[{i}]") for i, row in enumerate(rows)]
