"""The one record type: a per-item result.

Suites write records, gates read them (paired statistics need per-item data, not
averages), reports render them. Nothing downstream re-runs a model, so a record must
hold everything a reviewer or a statistic needs about one scored prompt.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core.atomic import write_json, write_jsonl
from harness.core.errors import BadInputError

CLEAN = "clean"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Record(BaseModel):
    """One scored prompt. `variant` is `clean` or the name of a perturbation."""

    model_config = ConfigDict(extra="forbid")

    suite: str
    item_id: str
    variant: str = CLEAN
    prompt: str
    prompt_sha256: str = ""
    gold: Any = None
    pred: Any = None
    correct: bool | None = None
    choices: list[str] | None = None
    choice_logprobs: list[float] | None = None
    output: str | None = None
    labels: dict[str, Any] | None = None
    critical: bool | None = None
    demo: bool = False
    meta: dict[str, Any] = Field(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        if not self.prompt_sha256:
            self.prompt_sha256 = sha256_text(self.prompt)

    @property
    def key(self) -> tuple[str, str]:
        """Pairs a record with its counterpart in another model's run."""
        return (self.item_id, self.variant)


def records_path(eval_dir: str | Path, suite: str) -> Path:
    return Path(eval_dir) / f"{suite}.records.jsonl"


def write_records(path: str | Path, records: Iterable[Record]) -> Path:
    return write_jsonl(path, (r.model_dump(mode="json") for r in records))


def iter_records(path: str | Path) -> Iterator[Record]:
    """Read a records file, naming file and line on any malformed row."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInputError("records file not found", where=str(path)) from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield Record.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                first = str(exc).splitlines()[0]
                raise BadInputError(f"malformed record: {first}", where=f"{path}:{number}") from exc


def read_records(path: str | Path) -> list[Record]:
    return list(iter_records(path))


# --- summaries (superseded) -------------------------------------------------------------
# summary.json is read and written through harness.core.summaries (SuiteSummary,
# MetricEntry, read_summaries, write_suite_summary). These dict helpers stay only until
# their last callers (suites, reports, some tests) have moved; new code must not use them.


def metric(value: float | None, ci: tuple[float, float] | list[float] | None = None,
           n: int | None = None, **extra: Any) -> dict[str, Any]:
    """A metric entry; NaN becomes None so JSON stays valid and gates fail closed on it."""

    def clean(x: float | None) -> float | None:
        if x is None:
            return None
        x = float(x)
        return None if math.isnan(x) or math.isinf(x) else x

    entry: dict[str, Any] = {
        "value": clean(value),
        "ci": [clean(ci[0]), clean(ci[1])] if ci is not None else None,
        "n": n,
    }
    entry.update(extra)
    return entry


def metric_names(suite_summary: dict[str, Any]) -> list[str]:
    return [k for k in suite_summary if not k.startswith("_")]


def summary_path(eval_dir: str | Path) -> Path:
    return Path(eval_dir) / "summary.json"


def read_summary(eval_dir: str | Path) -> dict[str, dict[str, Any]]:
    path = summary_path(eval_dir)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON ({exc.msg}, line {exc.lineno})", where=str(path)) from exc


def update_summary(eval_dir: str | Path, suite: str, metrics: dict[str, Any]) -> Path:
    """Replace one suite's entry, keeping the others (suites finish one at a time)."""
    summary = read_summary(eval_dir)
    summary[suite] = metrics
    return write_json(summary_path(eval_dir), summary)
