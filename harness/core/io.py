"""Reading and hashing files, in one place, so every reader fails the same way.

Three things were written several times across the packages and drifted apart: the
sha256 of a file, reading a YAML file whose errors name the file and line, and turning a
pydantic ValidationError into lines that name each key path. Each lives here once; the
YAML reader keeps the guards the config loader grew (bracket bombs, huge numbers, deep
nesting), so a suite spec or a run's config gets them as well as medgate.yaml does.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from harness.core.errors import BadInputError

if TYPE_CHECKING:
    from pydantic import ValidationError

_BLOCK = 1 << 20
MAX_FLOW_NESTING = 100


# --- hashing -----------------------------------------------------------------------------


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks (weights do not fit in memory twice).

    A folder (a dataset published as many files, such as MedSafetyBench's category CSVs)
    hashes as the sha256 of its files' relative paths and hashes, sorted, so renaming,
    adding or changing any file changes it."""
    if Path(path).is_dir():
        return _folder_sha256(Path(path))
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_sha256(folder: Path) -> str:
    lines = sorted(f"{p.relative_to(folder).as_posix()}\0{file_sha256(p)}\n"
                   for p in folder.rglob("*") if p.is_file())
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


_HASH_MEMO: dict[tuple[str, int, int], str] = {}


def file_sha256_memo(path: str | Path) -> str:
    """`file_sha256` memoised on (path, size, mtime): for weights, hashed once a process.

    Only for large files that are written once (weights); evidence a reviewer signs
    (gate.json, records) is hashed afresh with `file_sha256` every time.
    """
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASH_MEMO:
        _HASH_MEMO[key] = file_sha256(path)
    return _HASH_MEMO[key]


# --- YAML ----------------------------------------------------------------------------------


def check_flow_nesting(text: str, where: str) -> None:
    """Refuse `[[[[...` before PyYAML's scanner spends seconds on it (its cost grows with
    the square of the open brackets) only to hit the recursion limit."""
    depth = 0
    for char in re.sub(r"[^\[\]{}]", "", text):
        depth += 1 if char in "[{" else -1
        if depth > MAX_FLOW_NESTING:
            raise BadInputError(f"not valid YAML: brackets nested more than {MAX_FLOW_NESTING} "
                                "levels deep", where=where)


def yaml_failure(exc: Exception) -> str:
    """Why a YAML scalar or document could not be built beyond a syntax error."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc).split(";")[0][:120]


def parse_yaml(text: str, source: str) -> Any:
    """YAML text to data; any failure is bad input naming `source` (and the line if known).

    Shared by every YAML file a user hands medgate (configs, gate policies, suite specs,
    a run's resolved config), so each gets the same guards against bracket bombs, huge
    numbers and deep nesting.
    """
    check_flow_nesting(text, source)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise BadInputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", where=where) from exc
    except (ValueError, RecursionError) as exc:
        raise BadInputError(f"not valid YAML: {yaml_failure(exc)}", where=source) from exc


def read_text(path: str | Path, what: str = "file") -> str:
    """A UTF-8 text file; a missing, unreadable or binary file is bad input naming it."""
    source = str(path)
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInputError(f"{what} not found", where=source) from exc
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{what} is not UTF-8 text", where=source) from exc
    except OSError as exc:  # a folder, no permission
        raise BadInputError(f"cannot read {what} ({exc.strerror})", where=source) from exc


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """A YAML file to data (None for an empty file); errors name the file and line."""
    return parse_yaml(read_text(path, what), str(path))


# --- pydantic errors -------------------------------------------------------------------------


def _named_index(data: Any, loc: list[Any], i: int) -> str:
    """`3 (forgetting)` for a list index whose element has a `name`, else `3`."""
    node = data
    for part in loc[:i]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return str(loc[i])
    if isinstance(node, list) and isinstance(loc[i], int) and 0 <= loc[i] < len(node) \
            and isinstance(node[loc[i]], dict) and node[loc[i]].get("name"):
        return f"{loc[i]} ({node[loc[i]]['name']})"
    return str(loc[i])


def format_validation_errors(exc: ValidationError, source: str, data: Any = None) -> str:
    """One line per error naming `source` and the key path (`checks.3 (forgetting).threshold`).

    With the validated `data`, a list element that has a `name` is named as well as
    numbered, so a policy error points at the check a reader knows by name.
    """
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        path = ".".join(_named_index(data, loc, i) if isinstance(part, int) else str(part)
                        for i, part in enumerate(loc)) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key '{path}'")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{source}: key '{path}': {msg}")
    return "\n".join(lines)
