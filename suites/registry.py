"""The suite registry: declarative YAML specs in suites/specs/, code only where needed.

A spec names its kind, loader, prompt format, metrics and default data, like an
lm-evaluation-harness task file. `class: module:Name` points at a Python class for
suites that need code (perturbations, safety judging); it is constructed with the spec.
Data resolution: `--data SUITE=PATH` / config `evaluation.data` overrides the spec's
`default_data` (bundled demo data under suites/data/, reported as demo data).
"""

from __future__ import annotations

import importlib
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from harness.core.errors import BadInputError
from suites.base import RunContext, Suite, SuiteSpec
from suites.metrics import check_metric_names

SPECS_DIR = Path(__file__).parent / "specs"
DATA_DIR = Path(__file__).parent / "data"
_KINDS = ("multiple_choice", "generation", "perplexity", "derived")
_FIELDS = {f.name for f in fields(SuiteSpec)} - {"cls"} | {"class"}


def _parse_spec(path: Path) -> SuiteSpec:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise BadInputError(f"not valid YAML: {getattr(exc, 'problem', exc)}",
                            where=f"{path}:{mark.line + 1}" if mark else str(path)) from exc
    if not isinstance(raw, dict):
        raise BadInputError("a suite spec must be a mapping", where=str(path))
    unknown = set(raw) - _FIELDS
    if unknown:
        raise BadInputError(f"unknown key(s) {sorted(unknown)} (known: {sorted(_FIELDS)})",
                            where=str(path))
    for key in ("name", "kind", "description"):
        if not raw.get(key):
            raise BadInputError(f"missing key '{key}'", where=str(path))
    if raw["kind"] not in _KINDS:
        raise BadInputError(f"key 'kind' must be one of {list(_KINDS)}", where=str(path))
    raw = dict(raw)
    raw["cls"] = raw.pop("class", None)
    raw["metrics"] = tuple(raw.get("metrics") or ())
    check_metric_names(raw["metrics"], where=str(path))
    raw["options"] = dict(raw.get("options") or {})
    return SuiteSpec(**raw)


@lru_cache(maxsize=1)
def _specs() -> dict[str, SuiteSpec]:
    specs: dict[str, SuiteSpec] = {}
    for path in sorted(SPECS_DIR.glob("*.yaml")):
        spec = _parse_spec(path)
        if spec.name in specs:
            raise BadInputError(f"suite '{spec.name}' is declared twice", where=str(path))
        specs[spec.name] = spec
    return specs


def list_specs() -> list[SuiteSpec]:
    return list(_specs().values())


def get_spec(name: str) -> SuiteSpec:
    specs = _specs()
    if name not in specs:
        raise BadInputError(f"unknown suite '{name}' (known: {', '.join(sorted(specs))})")
    return specs[name]


def get_suite(name: str) -> Suite:
    """The suite object for `name`: its spec's class, or the generic class of its kind."""
    spec = get_spec(name)
    if spec.cls:
        module_name, _, attr = spec.cls.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise BadInputError(f"suite '{name}': cannot import class '{spec.cls}' ({exc})") from exc
        return cls(spec)
    from suites.benchmark import KIND_CLASSES

    if spec.kind not in KIND_CLASSES:
        raise BadInputError(f"suite '{name}' of kind '{spec.kind}' needs a 'class'")
    return KIND_CLASSES[spec.kind](spec)


def default_data_path(spec: SuiteSpec) -> Path | None:
    if not spec.default_data:
        return None
    path = Path(spec.default_data)
    return path if path.is_absolute() else DATA_DIR / path


def resolve_data(name: str, data: dict[str, str] | None = None) -> tuple[Path | str | None, bool]:
    """(data source, is demo data) for a suite: the user's path wins over the bundled file."""
    spec = get_spec(name)
    given = (data or {}).get(name)
    if given:
        if given.startswith("hf:"):
            return given, False
        path = Path(given).expanduser()
        if not path.exists():
            raise BadInputError(f"data for suite '{name}' not found", where=str(path))
        return path, False
    path = default_data_path(spec)
    if path is not None and not path.exists():
        raise BadInputError(f"bundled data of suite '{name}' is missing", where=str(path))
    return path, bool(spec.demo and path is not None)


def check_data_keys(data: dict[str, str] | None, suites: list[str]) -> None:
    """A --data entry for a suite that is not being run would be silently ignored: refuse."""
    for key in data or {}:
        get_spec(key)
        if key not in suites:
            raise BadInputError(f"--data {key}=... given but suite '{key}' is not in --suites "
                                f"({', '.join(suites)})")


def make_context(name: str, data: dict[str, str] | None = None, **kwargs: Any) -> RunContext:
    path, demo = resolve_data(name, data)
    return RunContext(data_path=path, is_demo_data=demo, **kwargs)


def eval_item_texts(name: str, data_path: str | None = None) -> list[tuple[str, str]]:
    """(item_id, text) of a suite's items, for train/test overlap checks before training.

    Suites without loadable items of their own (e.g. derived suites) give an empty list.
    """
    spec = get_spec(name)
    ctx = make_context(name, {name: data_path} if data_path else None)
    suite = get_suite(name)
    if hasattr(suite, "item_texts"):
        return list(suite.item_texts(ctx))
    if spec.loader is None or ctx.data_path is None:
        return []
    from suites.benchmark import load_spec_items

    out = []
    for item in load_spec_items(spec, ctx):
        if hasattr(item, "options"):
            parts = [item.context or "", item.question, *item.options]
        else:
            parts = [item.prompt, item.reference or ""]
        out.append((item.item_id, "\n".join(p for p in parts if p)))
    return out
