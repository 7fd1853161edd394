"""Typed summaries: one suite's metrics, its description and its failure, read and written
in one place.

`summary.json` keeps the layout of the design (`{suite: {metric: {"value", "ci", "n",
...}, "_info": {...}, "_error": "..."}}`) so earlier runs and other tools still read it;
code reads and writes it only through these types, never through underscore keys.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.core.atomic import write_json
from harness.core.errors import BadInputError

INFO_KEY = "_info"
ERROR_KEY = "_error"


def finite(x: Any) -> float | None:
    """A float, or None for anything that is not a finite number (NaN, inf, bool, text).

    The one test of "a number a gate can judge", shared by summaries, checks and
    comparisons; -0.0 comes back as 0.0 so no report shows a negative zero.
    """
    if x is None or isinstance(x, bool):
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x + 0.0


class MetricEntry(BaseModel):
    """A measured number with its uncertainty.

    `value`, `ci` and `n` are always present (None when not measured: NaN never reaches
    JSON, and a gate fails closed on None). Rates of rare events add `events`, the
    one-sided `upper95` and the `n_needed` to show their `threshold`; higher-is-better
    rates add `lower95` and `target`. `confidence` is the level of the CI and of those
    one-sided bounds (the names say 95 for files written before the level could change;
    they hold the bound at `confidence`). Other descriptive fields (method, tokens, scale,
    n_records, ...) are kept as given.
    """

    model_config = ConfigDict(extra="allow")

    value: float | None = None
    ci: list[float | None] | None = None
    n: int | None = None
    events: int | None = None
    upper95: float | None = None
    lower95: float | None = None
    n_needed: int | None = None
    threshold: float | None = None
    target: float | None = None
    direction: str | None = None
    method: str | None = None
    confidence: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The on-disk entry: value, ci, n always; the other fields as they were given.

        A field given as None stays in the file as null (an empty rate's `upper95` says
        "no bound", which is not the same as "not a rate"); a field never given is left out.
        """
        data = self.model_dump(mode="json", exclude_unset=True)
        return {"value": data.pop("value", self.value), "ci": data.pop("ci", self.ci),
                "n": data.pop("n", self.n), **data}

    @property
    def is_rate(self) -> bool:
        """A rare-event rate: it carries a one-sided bound, null for an empty rate."""
        return "upper95" in self.model_fields_set

    @property
    def extra(self) -> dict[str, Any]:
        """The descriptive fields beyond the typed ones."""
        return dict(self.model_extra or {})


def metric(value: float | None, ci: tuple[float, float] | list[float] | None = None,
           n: int | None = None, **extra: Any) -> MetricEntry:
    """A metric entry; NaN and infinities become None so a gate fails closed on them."""
    return MetricEntry(value=finite(value),
                       ci=[finite(ci[0]), finite(ci[1])] if ci is not None else None,
                       n=n, **extra)


class SuiteInfo(BaseModel):
    """What a suite's numbers were measured on: data, model, scoring settings, counts.

    The fields named here are the ones other parts read; a suite adds its own (variants,
    judge, categories, ...) beside them. `metrics`, `metric_options` and `metric_seed` are
    what the suite computed its metrics with (the spec's list, the effective options in
    JSON form, the seed), so a gate can recompute them on a subset of the records.
    """

    model_config = ConfigDict(extra="allow")

    data: str | None = None
    data_sha256: str | None = None
    demo: bool = False
    n_items: int | None = None
    limit: int | None = None
    backend: str | None = None
    fingerprint: str | None = None
    model: str | None = None
    adapter: str | None = None
    tag: str | None = None
    device: str | None = None
    seconds: float | None = None
    metrics: list[str] | None = None
    metric_options: dict[str, Any] | None = None
    metric_seed: int | None = None

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def to_json(self) -> dict[str, Any]:
        """The fields that were given (an errored suite's info is short), nothing invented."""
        return self.model_dump(mode="json", exclude_unset=True)


class SuiteSummary(BaseModel):
    """One suite's entry in summary.json: its metrics, or the error that stopped it."""

    metrics: dict[str, MetricEntry] = {}
    info: SuiteInfo = SuiteInfo()
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: entry.to_json() for name, entry in self.metrics.items()}
        out[INFO_KEY] = self.info.to_json()
        if self.error is not None:
            out[ERROR_KEY] = self.error
        return out

    @classmethod
    def from_json(cls, raw: Any, where: str) -> SuiteSummary:
        """Parse one on-disk entry; anything malformed is bad input naming `where`."""
        if not isinstance(raw, dict):
            raise BadInputError("a suite entry must be a JSON object", where=where)
        metrics: dict[str, MetricEntry] = {}
        try:
            for name, value in raw.items():
                if name.startswith("_"):
                    continue
                if not isinstance(value, dict):
                    raise BadInputError(f"metric '{name}' is not a metric entry", where=where)
                metrics[name] = MetricEntry.model_validate(value)
            info = SuiteInfo.model_validate(raw.get(INFO_KEY) or {})
        except ValidationError as exc:
            first = str(exc).splitlines()[0]
            raise BadInputError(f"malformed summary entry: {first}", where=where) from exc
        error = raw.get(ERROR_KEY)
        return cls(metrics=metrics, info=info, error=None if error is None else str(error))


def summary_path(eval_dir: str | Path) -> Path:
    return Path(eval_dir) / "summary.json"


def read_summaries(eval_dir: str | Path) -> dict[str, SuiteSummary]:
    """Every suite's summary of one evaluated model; {} when nothing was evaluated yet."""
    path = summary_path(eval_dir)
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON ({exc.msg}, line {exc.lineno})",
                            where=str(path)) from exc
    if not isinstance(raw, dict):
        raise BadInputError("summary.json must be a JSON object", where=str(path))
    return {suite: SuiteSummary.from_json(entry, f"{path} (suite '{suite}')")
            for suite, entry in raw.items()}


def write_suite_summary(eval_dir: str | Path, suite: str, summary: SuiteSummary) -> Path:
    """Replace one suite's entry, keeping the others (suites finish one at a time)."""
    path = summary_path(eval_dir)
    existing: dict[str, Any] = {}
    if path.exists():
        existing = {name: s.to_json() for name, s in read_summaries(eval_dir).items()}
    existing[suite] = summary.to_json()
    return write_json(path, existing)
