"""A suite's items: its data file read, contaminated items removed, the limit applied.

Every suite takes the same steps in the same order, so a contaminated item never takes a
place the limit would give a clean one, and a suite without data says how to give it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from harness.core.errors import BadInputError
from suites.base import RunContext, SuiteSpec
from suites.loaders import load_items

T = TypeVar("T")


class PlanOnly(Exception):
    """Raised by `select_items` when the context asked for the plan (`ctx.plan`): the item
    ids the suite would score are in `ctx.plan`, and no model work has started."""


def first_n(items: list[T], limit: int | None) -> list[T]:
    return items if limit is None else items[:limit]


def load_data(spec: SuiteSpec, ctx: RunContext,
              load: Callable[[Path | str], list[T]] | None = None) -> list[T]:
    """Every item of the suite's data, read by `load` (default: the spec's loader)."""
    if ctx.data_path is None:
        raise BadInputError(f"suite '{spec.name}' has no bundled data: pass "
                            f"--data {spec.name}=PATH (or evaluation.data.{spec.name} in the "
                            "config)")
    if load is not None:
        return load(ctx.data_path)
    if spec.loader is None:
        raise BadInputError(f"suite '{spec.name}' names no loader in its spec")
    return load_items(spec.loader, str(ctx.data_path), {**spec.options, **ctx.options})


def _item_id(item: Any) -> str:
    return item.item_id


def select_items(spec: SuiteSpec, ctx: RunContext,
                 load: Callable[[Path | str], list[T]] | None = None, *,
                 item_id: Callable[[T], str] = _item_id,
                 keep: Callable[[list[T]], list[T]] | None = None,
                 limit: Callable[[list[T], int | None], list[T]] = first_n) -> list[T]:
    """The items to score: load, drop the items the data preflight excluded as
    contaminated (before the limit picks), `keep` (a suite's own filter), then `limit`;
    then, for sequential evaluation, the plan (PlanOnly) or one block (`ctx.include`).

    Every suite calls this before any model work, which is what lets a sequential
    evaluation ask a suite for its plan without scoring anything."""
    items = load_data(spec, ctx, load)
    if ctx.exclude:
        items = [item for item in items if item_id(item) not in ctx.exclude]
    if keep is not None:
        items = keep(items)
    items = limit(items, ctx.limit)
    if ctx.plan is not None:
        ctx.plan.extend(item_id(item) for item in items)
        raise PlanOnly
    if ctx.include is not None:
        items = [item for item in items if item_id(item) in ctx.include]
    return items
