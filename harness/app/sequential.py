"""Scoring a suite in blocks until the gate has what it needs (sequential evaluation).

The suite's planned items (its data after exclusion and the limit: what an exhaustive
evaluation scores) are put in a fixed order, seeded by the evaluation seed and the item id
alone (so every model, every run and every machine draws the same order), restricted to
the part of the items this evaluation is for (the selection items while candidates are
being chosen, the confirmation items for the chosen one), and scored in blocks that grow
(8, 8, 16, 32, ... items: the first answers come quickly, later blocks batch well). After
each block the records so far are written and the gate's settlement rules
(gates.sequential) say whether any check reading the suite still needs items; when none
does, the suite stops and says so in its info (`sequential`: planned ids, items scored
per part, the rule that settled each check, block sizes).

Suites a paired check reads are scored on every planned item of the base model (a
candidate's items must all find their base); a candidate's plan names the base's
evaluation (`base_dir`), so its paired checks can settle against it. Records already
scored for another part
(a candidate's selection items, before its confirmation) are kept, not scored again.
Suites candidates are ranked on (the selection metric, early stopping's, a study's
objectives) are scored on every item of the part whether or not a check gates on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gates.evidence import ModelEvidence
from gates.policy import Policy
from gates.result import ItemPart
from gates.sequential import INFO_KEY, can_settle, item_order_key, suite_settlements
from gates.split import part_of
from harness.core.backends import ModelHandle
from harness.core.errors import BadInputError
from harness.core.records import Record, read_records, records_path
from harness.core.summaries import read_summaries
from suites.base import RunContext, SuiteResult
from suites.items import PlanOnly
from suites.metrics import compute_metrics

FIRST_BLOCK = 8


@dataclass(frozen=True)
class SequentialPlan:
    """How one model's suites are scored sequentially.

    `part`: the items planned for this evaluation (selection, confirmation or all);
    `full`: suites scored whole, as an exhaustive evaluation scores them (the base
    model's suites that paired checks read); `skip`: suites not scored at all (no gated
    check reads them, and this evaluation only chooses among candidates); `compared`:
    suites scored on every item of the part, never stopped early, because candidates are
    ranked on them (the selection rule's metric, gate early stopping's, a study's
    objectives): a ranking on a different number of items per candidate would favour
    whichever stopped on a lucky block. `base_dir`: the base model's evaluation, scored
    before any candidate, that a candidate's paired checks settle against (None for the
    base itself, whose paired suites are scored whole)."""

    policy: Policy
    part: ItemPart
    device: str
    seed: int
    full: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    compared: frozenset[str] = frozenset()
    first_block: int = FIRST_BLOCK
    base_dir: Path | None = None

    @property
    def confirm_fraction(self) -> float:
        return self.policy.selection.confirm_fraction if self.part != "all" else 0.0


def gated_suites(policy: Policy, device: str) -> frozenset[str]:
    """Suites at least one check gates on this device."""
    return frozenset(c.suite for c in policy.checks
                     if not (c.gate_on == "cuda" and device != "cuda"))


def block_sizes(total: int, first: int = FIRST_BLOCK) -> list[int]:
    """8, 8, 16, 32, ... summing to `total`: the first looks come early, later blocks are
    large enough to batch well."""
    sizes, size = [], max(first, 1)
    while sum(sizes) < total:
        sizes.append(min(size, total - sum(sizes)))
        if len(sizes) >= 2:
            size *= 2
    return sizes


def planned_item_ids(suite: Any, handle: ModelHandle, ctx: RunContext) -> list[str]:
    """The ids the suite would score under `ctx`, asked of suites.items.select_items
    before any model work; a suite that scores without asking cannot be scored in blocks
    and is refused."""
    probe = replace(ctx, plan=[])
    try:
        suite.run(handle, probe)
    except PlanOnly:
        return list(dict.fromkeys(probe.plan))
    raise BadInputError(f"suite '{suite.spec.name}' scored without asking for its items; "
                        "it cannot be evaluated sequentially (use --exhaustive)")


def _in_part(item_id: str, part: ItemPart, confirm_fraction: float) -> bool:
    return part == "all" or part_of(item_id, confirm_fraction) == part


def _kept_records(eval_dir: Path, name: str, planned: set[str]) -> tuple[list[Record], dict]:
    """Records of an earlier sequential evaluation of this model (another part of the
    items) whose items are still planned, and that evaluation's sequential info."""
    try:
        summary = read_summaries(eval_dir).get(name)
    except BadInputError:
        return [], {}
    if summary is None or summary.failed or not isinstance(summary.info.extra.get(INFO_KEY),
                                                           dict):
        return [], {}
    path = records_path(eval_dir, name)
    if not path.exists():
        return [], {}
    kept = [r for r in read_records(path) if r.item_id in planned]
    return kept, dict(summary.info.extra[INFO_KEY])


def run_sequential(suite: Any, name: str, handle: ModelHandle, ctx: RunContext,
                   eval_dir: Path, plan: SequentialPlan,
                   write_partial: Callable[[SuiteResult], None]) -> SuiteResult:
    """Score `suite` block by block until no check needs more of the plan's part."""
    planned = planned_item_ids(suite, handle, ctx)
    part = plan.part
    fraction = plan.policy.selection.confirm_fraction
    kept, earlier = _kept_records(eval_dir, name, set(planned))
    done = {r.item_id for r in kept}
    todo = sorted((i for i in planned if _in_part(i, part, fraction) and i not in done),
                  key=lambda i: item_order_key(plan.seed, i))
    in_part_total = sum(_in_part(i, part, fraction) for i in planned)
    records, last, blocks = list(kept), None, []
    stopped_by: dict[str, str | None] = {}
    confidence = plan.policy.confidence
    start = 0
    settles = name not in plan.compared and any(
        can_settle(c, plan.device, paired=plan.base_dir is not None)
        for c in plan.policy.checks if c.suite == name)
    # a suite no check can settle early (paired checks, screens), or one candidates are
    # ranked on, is scored in one pass
    # a generation suite's first block is one generation batch: a decoding step costs
    # about the same for 8 prompts as for 32 on a CPU, so smaller first looks save nothing
    first = handle.generation_batch_size if suite.spec.kind == "generation" \
        else plan.first_block
    sizes = block_sizes(len(todo), first) if settles else [len(todo)] * bool(todo)
    # the base's records are read once for every look, not once per block
    base = None if plan.base_dir is None else ModelEvidence(
        plan.base_dir, "base", plan.device, part=part, confirm_fraction=fraction)
    for size in sizes:
        block = todo[start:start + size]
        start += size
        result = suite.run(handle, replace(ctx, include=frozenset(block)))
        records += result.records
        last, blocks = result, [*blocks, size]
        if start >= len(todo):
            continue
        partial = _merged(name, records, last, planned, part, blocks, earlier, fraction,
                          ctx, complete=False)
        write_partial(partial)
        evidence = ModelEvidence(eval_dir, handle.tag, plan.device, part=part,
                                 confirm_fraction=fraction)
        needs, settled = suite_settlements(plan.policy, name, evidence,
                                           confidence=confidence, device=plan.device,
                                           base=base)
        stopped_by = {k: (s.rule if s else None) for k, s in settled.items()}
        if not needs:
            break
    if last is None:  # nothing left to score in this part: the earlier records stand
        last = SuiteResult(records=[], metrics={}, info=_earlier_info(eval_dir, name))
    result = _merged(name, records, last, planned, part, blocks, earlier, fraction, ctx,
                     complete=True)
    result.info[INFO_KEY]["stopped_by"] = {**result.info[INFO_KEY].get("stopped_by", {}),
                                           part: stopped_by}
    result.info[INFO_KEY]["planned"][part] = in_part_total
    return result


def _earlier_info(eval_dir: Path, name: str) -> dict[str, Any]:
    summary = read_summaries(eval_dir)[name]
    info = summary.info.to_json()
    return {k: v for k, v in info.items() if k in ("metrics", "metric_options", "metric_seed")}


def _merged(name: str, records: list[Record], last: SuiteResult, planned: list[str],
            part: ItemPart, blocks: list[int], earlier: dict[str, Any], fraction: float,
            ctx: RunContext, *, complete: bool) -> SuiteResult:
    """The suite's result over every record so far: the metrics computed again from all
    of them with the options the suite stated (its info's metrics, metric_options and
    seed), and the sequential account."""
    info = dict(last.info)
    names = info.get("metrics") or []
    metrics = compute_metrics(names, records, options=info.get("metric_options") or {},
                              seed=info.get("metric_seed") or ctx.seed)
    if metrics.absent:
        info["metrics_absent"] = dict(metrics.absent)
    scored = {**(earlier.get("scored") or {}),
              part: len({r.item_id for r in records if _in_part(r.item_id, part, fraction)})}
    info[INFO_KEY] = {
        "planned_ids": planned,
        "planned": dict(earlier.get("planned") or {}),
        "scored": scored,
        "part": part,
        "order": f"sha256('medgate-order:{ctx.seed}:' + item_id)",
        "order_seed": ctx.seed,
        "blocks": {**(earlier.get("blocks") or {}), part: blocks},
        "stopped_by": dict(earlier.get("stopped_by") or {}),
        "complete": complete,
    }
    return SuiteResult(records=records, metrics=metrics, info=info)
