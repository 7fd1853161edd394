"""The suite registry: declarative YAML specs, code only where needed.

A spec names its kind, loader, prompt format, metrics, default data and tags (its roles),
like an lm-evaluation-harness task file. `class: module:Name` points at a Python class for
suites that need code (perturbations, safety judging); it is constructed with the spec.

Specs come from suites/specs/ and from the user's own locations, so a suite can be added
by a YAML file alone, without editing the installed package: the config's
`evaluation.suite_specs` and the MEDGATE_SUITE_PATH environment variable (for commands
without a config, such as `medgate suites`) list spec files or folders of them.

Data resolution: `--data SUITE=PATH` / config `evaluation.data` overrides the spec's
`default_data`; a relative `default_data` is bundled demo data under suites/data/ for the
bundled specs and resolves against the spec file's folder for the user's specs.

Groups: a file with `kind: group` (bundled in suites/specs/groups/, or among the user's
spec files) names member suites and the tasks it averages (suites.groups). A group's name
is accepted wherever a list of suites is (`--suites`, `evaluation.suites`) and stands for
its members, in order (`expand_suites`); group and suite names share one namespace.

Options: a spec's `options:` are the suite's defaults; `evaluation.suite_options` in the
config overrides them per suite. Each suite class declares the options it accepts and
their types in `OPTIONS` ({name: type}), and so does a loader that reads options
(`suites.loaders.LOADER_OPTIONS`, e.g. medmcqa's `cop_base`); anything else is an error
naming the key.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from harness.core.config import EvaluationConfig
from harness.core.errors import BadInputError
from harness.core.io import read_yaml
from suites.base import RunContext, Suite, SuiteSpec
from suites.groups import GROUP_KIND, GroupSpec, parse_group
from suites.loaders import LOADER_OPTIONS
from suites.metrics import check_metric_names

SPECS_DIR = Path(__file__).parent / "specs"
GROUPS_DIR = SPECS_DIR / "groups"
DATA_DIR = Path(__file__).parent / "data"
SPEC_PATH_ENV = "MEDGATE_SUITE_PATH"
OPTIONS_KEY = "evaluation.suite_options"
_KINDS = ("multiple_choice", "generation", "perplexity", "derived")
_FIELDS = {f.name for f in fields(SuiteSpec)} - {"cls", "path"} | {"class"}

# The roles a suite can have. Reports, the checklist, plots and the CLI find suites by
# these, never by name; a spec naming any other tag is an error.
TAGS: dict[str, str] = {
    "performance": "a benchmark of the task being fine-tuned; a test set for the checklist",
    "forgetting": "general knowledge outside the domain: accuracy(base) - accuracy(model) "
                  "is the forgetting delta",
    "robustness": "items scored clean and perturbed; accuracy drop per perturbation",
    "safety": "harmful requests and benign controls; rates in the model card's safety section",
    "critical": "items whose wrong options are dangerous; critical-error rate in the safety "
                "section",
    "latency": "wall-clock timing; reported beside the results, not among them",
    "clinical": "a clinical documentation task (notes, summaries)",
    "generation": "free-text answers scored against references",
    "perplexity": "language-model fit on held-out text",
}

# Spec files or folders from the loaded config: (path, the config key that named it).
_config_paths: tuple[tuple[Path, str], ...] = ()
_cache: dict[tuple[tuple[Path, str], ...], dict[str, SuiteSpec]] = {}
_group_cache: dict[tuple[tuple[Path, str], ...], dict[str, GroupSpec]] = {}
# The config's evaluation.suite_options, kept by apply_config for the steps that read a
# suite's data before a run context exists (the train/test overlap check).
_config_options: dict[str, dict[str, Any]] = {}



def _string_list(raw: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BadInputError(f"key '{key}' must be a list of names", where=str(path))
    return tuple(value)


def _parse_spec(path: Path) -> SuiteSpec:
    raw = read_yaml(path, what="suite spec")
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
    tags = _string_list(raw, "tags", path)
    bad = [t for t in tags if t not in TAGS]
    if bad:
        raise BadInputError(f"unknown tag(s) {bad} (known: {', '.join(TAGS)})", where=str(path))
    if not isinstance(raw.get("options") or {}, dict):
        raise BadInputError("key 'options' must be a mapping", where=str(path))
    raw = dict(raw)
    raw["cls"] = raw.pop("class", None)
    raw["metrics"] = tuple(raw.get("metrics") or ())
    check_metric_names(raw["metrics"], where=str(path))
    raw["options"] = dict(raw.get("options") or {})
    raw["tags"] = tuple(dict.fromkeys(tags))
    return SuiteSpec(**raw, path=path)


def _spec_files(entry: Path, where: str) -> list[Path]:
    """The spec files an entry names: the file itself, or a folder's *.yaml / *.yml."""
    if entry.is_dir():
        return sorted(p for p in entry.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if entry.is_file():
        return [entry]
    raise BadInputError(f"suite spec file or folder not found: {entry}", where=where)


def _env_paths() -> tuple[tuple[Path, str], ...]:
    value = os.environ.get(SPEC_PATH_ENV, "")
    return tuple((Path(p).expanduser().resolve(), SPEC_PATH_ENV)
                 for p in value.split(os.pathsep) if p)


def _specs() -> dict[str, SuiteSpec]:
    extra = _config_paths + _env_paths()
    if extra not in _cache:
        specs: dict[str, SuiteSpec] = {}
        groups: dict[str, GroupSpec] = {}
        files = sorted(SPECS_DIR.glob("*.yaml")) + sorted(GROUPS_DIR.glob("*.yaml"))
        for entry, where in extra:
            files += [p for p in _spec_files(entry, where) if p not in files]
        for path in files:
            raw = read_yaml(path, what="suite spec")
            if isinstance(raw, dict) and raw.get("kind") == GROUP_KIND:
                group = parse_group(raw, path)
                _check_new_name("group", group.name, path, specs, groups)
                groups[group.name] = group
                continue
            spec = _parse_spec(path)
            _check_new_name("suite", spec.name, path, specs, groups)
            specs[spec.name] = spec
        for group in groups.values():
            unknown = [m for m in group.members if m not in specs]
            if unknown:
                raise BadInputError(f"group '{group.name}' names unknown suite(s) "
                                    f"{', '.join(unknown)}", where=str(group.path))
        _cache.clear()  # one include list at a time: a command has one config
        _group_cache.clear()
        _cache[extra] = specs
        _group_cache[extra] = groups
    return _cache[extra]


def _check_new_name(kind: str, name: str, path: Path, specs: dict[str, SuiteSpec],
                    groups: dict[str, GroupSpec]) -> None:
    """Suites and groups share one namespace: `--suites NAME` must mean one thing."""
    earlier = specs.get(name) or groups.get(name)
    if earlier is not None:
        what = "suite" if name in specs else "group"
        raise BadInputError(f"{kind} '{name}' is declared twice (also as a {what} in "
                            f"{earlier.path})", where=str(path))


def _groups() -> dict[str, GroupSpec]:
    _specs()
    return _group_cache[_config_paths + _env_paths()]


def list_groups() -> list[GroupSpec]:
    """Every declared group (bundled first, then the user's)."""
    return list(_groups().values())


def find_group(name: str) -> GroupSpec | None:
    return _groups().get(name)


def expand_suites(names: Sequence[str]) -> list[str]:
    """Suite names with each group name replaced by its members, in order, each suite
    once (a suite named directly and through a group runs once). Unknown names are an
    error listing both suites and groups."""
    out: list[str] = []
    for name in names:
        group = find_group(name)
        if group is None:
            if name not in _specs():
                raise BadInputError(f"unknown suite '{name}' (known: "
                                    f"{', '.join(sorted(_specs()))}; groups: "
                                    f"{', '.join(sorted(_groups())) or 'none'})")
            members = [name]
        else:
            members = list(group.members)
        out += [m for m in members if m not in out]
    return out


def requested_groups(names: Sequence[str]) -> list[GroupSpec]:
    """The groups named among `names`, in order."""
    return [g for name in dict.fromkeys(names) if (g := find_group(name)) is not None]


def use_spec_paths(paths: Sequence[str | Path], key: str = "evaluation.suite_specs") -> None:
    """Read the user's spec files (or folders of them) beside the bundled ones.

    Replaces the paths a previous config gave: one process evaluates one config. Relative
    paths resolve against the working directory, like `evaluation.data`.
    """
    global _config_paths
    resolved = []
    for i, entry in enumerate(paths):
        path = Path(entry).expanduser().resolve()
        if not path.exists():
            raise BadInputError(f"suite spec file or folder not found: {entry}",
                                where=f"{key}[{i}]")
        resolved.append((path, f"{key}[{i}]"))
    _config_paths = tuple(resolved)
    _specs()  # a broken spec is reported now, naming its file, not at first use


def list_specs(tag: str | None = None) -> list[SuiteSpec]:
    """Every spec (bundled first, then the user's), or those with role `tag`."""
    if tag is not None:
        check_tag(tag)
    return [s for s in _specs().values() if tag is None or tag in s.tags]


def check_tag(tag: str) -> None:
    if tag not in TAGS:
        raise BadInputError(f"unknown tag '{tag}' (known: {', '.join(TAGS)})")


def get_spec(name: str) -> SuiteSpec:
    specs = _specs()
    if name not in specs:
        raise BadInputError(f"unknown suite '{name}' (known: {', '.join(sorted(specs))})")
    return specs[name]


def find_spec(name: str) -> SuiteSpec | None:
    """The spec of `name` if the registry knows it (reports of runs with others' suites)."""
    return _specs().get(name)


def suite_class(spec: SuiteSpec) -> type:
    """The spec's class, or the generic class of its kind."""
    if spec.cls:
        module_name, _, attr = spec.cls.partition(":")
        try:
            return getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError, ValueError) as exc:
            raise BadInputError(f"suite '{spec.name}': cannot import class '{spec.cls}' ({exc})",
                                where=str(spec.path) if spec.path else None) from exc
    from suites.benchmark import KIND_CLASSES

    if spec.kind not in KIND_CLASSES:
        raise BadInputError(f"suite '{spec.name}' of kind '{spec.kind}' needs a 'class'",
                            where=str(spec.path) if spec.path else None)
    return KIND_CLASSES[spec.kind]


def accepted_options(spec: SuiteSpec) -> dict[str, Any]:
    """{option: type} the suite's class declares (`OPTIONS`) and its loader reads; none
    when neither declares any."""
    return {**(getattr(suite_class(spec), "OPTIONS", None) or {}),
            **LOADER_OPTIONS.get(spec.loader or "", {})}


def options_schema(spec: SuiteSpec) -> dict[str, Any]:
    """The accepted options as JSON schemas, for scripts (`medgate suites --json`)."""
    return {name: TypeAdapter(kind).json_schema() for name, kind in accepted_options(spec).items()}


def validate_options(spec: SuiteSpec, options: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """`options` checked against what the suite accepts; errors name `<prefix>.<key>`."""
    accepted = accepted_options(spec)
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key not in accepted:
            known = ", ".join(sorted(accepted)) or "none"
            raise BadInputError(f"suite '{spec.name}' has no option '{key}' (accepted: {known})",
                                where=f"{prefix}.{key}")
        try:
            out[key] = TypeAdapter(accepted[key]).validate_python(value, strict=True)
        except ValidationError as exc:
            message = exc.errors()[0]["msg"]
            raise BadInputError(f"suite '{spec.name}': {message} (got {value!r})",
                                where=f"{prefix}.{key}") from exc
    return out


def effective_options(name: str, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The spec's options overridden by the config's, both validated."""
    spec = get_spec(name)
    defaults = validate_options(spec, spec.options, f"{spec.path or name}: options")
    return {**defaults, **validate_options(spec, given or {}, f"{OPTIONS_KEY}.{name}")}


def check_suite_options(options: Mapping[str, Mapping[str, Any]]) -> None:
    """Every suite and option key of `evaluation.suite_options` exists and has its type."""
    for name, given in options.items():
        if find_spec(name) is None:
            raise BadInputError(f"unknown suite '{name}' (known: "
                                f"{', '.join(sorted(_specs()))})", where=f"{OPTIONS_KEY}.{name}")
        effective_options(name, given)


def apply_config(evaluation: EvaluationConfig) -> None:
    """Make a config's suites known and check its suite options, before any work starts.

    Group names in `evaluation.suites` are replaced by their members here, so every step
    that reads the list (preflight, evaluation, gates) sees suites only.
    """
    use_spec_paths(evaluation.suite_specs)
    expanded = expand_suites(evaluation.suites)
    if expanded != evaluation.suites:
        evaluation.suites = expanded
    check_suite_options(evaluation.suite_options)
    _config_options.clear()
    _config_options.update({name: dict(given) for name, given in
                            evaluation.suite_options.items()})


def get_suite(name: str, options: Mapping[str, Any] | None = None) -> Suite:
    """The suite object for `name`, its spec's options overridden by `options`."""
    spec = get_spec(name)
    cls = suite_class(spec)
    if options:
        spec = replace(spec, options=effective_options(name, options))
    return cls(spec)


def default_data_path(spec: SuiteSpec) -> Path | None:
    if not spec.default_data:
        return None
    path = Path(spec.default_data).expanduser()
    if path.is_absolute():
        return path
    bundled = spec.path is None or spec.path.parent == SPECS_DIR
    return (DATA_DIR if bundled else spec.path.parent) / path


def resolve_data(name: str, data: dict[str, str] | None = None) -> tuple[Path | str | None, bool]:
    """(data source, is demo data) for a suite: the user's path wins over the spec's file."""
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
        if spec.path is None or spec.path.parent == SPECS_DIR:
            raise BadInputError(f"bundled data of suite '{name}' is missing", where=str(path))
        raise BadInputError(f"default_data of suite '{name}' not found: {path}",
                            where=str(spec.path))
    return path, bool(spec.demo and path is not None)


def check_data_keys(data: dict[str, str] | None, suites: list[str]) -> None:
    """A --data entry for a suite that is not being run would be silently ignored: refuse."""
    for key in data or {}:
        get_spec(key)
        if key not in suites:
            raise BadInputError(f"--data {key}=... given but suite '{key}' is not in --suites "
                                f"({', '.join(suites)})")


def make_context(name: str, data: dict[str, str] | None = None,
                 options: Mapping[str, Any] | None = None, **kwargs: Any) -> RunContext:
    """Where the suite's data is, and its options: the spec's, overridden by `options`."""
    path, demo = resolve_data(name, data)
    return RunContext(data_path=path, is_demo_data=demo, options=effective_options(name, options),
                      **kwargs)


def eval_item_texts(name: str, data_path: str | None = None,
                    options: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(item_id, text) of a suite's items, for train/test overlap checks before training.

    The data is read with the suite's options (`options`, else those of the config given
    to apply_config), so a loader option such as medmcqa's cop_base applies here too.
    Suites without loadable items of their own (e.g. derived suites) give an empty list.
    """
    given = _config_options.get(name) if options is None else options
    ctx = make_context(name, {name: data_path} if data_path else None, given)
    suite = get_suite(name, given)
    spec = suite.spec
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
