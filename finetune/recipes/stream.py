"""The sequence of examples a recipe trains on, built before training and consumed in order.

Mixture sources, tasks and (with augmentation) perturbed copies are pools; the share of
each pool at each point of training comes from the mixture schedule and the task
weights (finetune.recipes.schedule), and which pool supplies each example is drawn by the
`datasets` library's `interleave_datasets` with those probabilities, one call per segment
of the schedule (a linear schedule is cut into segments; a step schedule into two; a
constant one is one segment). Within a pool, examples cycle in a fresh shuffle per pass,
or, under a curriculum, are drawn from the easiest admitted share of the pool.

The trainer then reads this sequence in order (no shuffling of its own), so the
proportions and the order recorded in train/recipes.json are what is trained; the
trainer records what it actually consumed beside it (train/consumed.jsonl).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from finetune.datasets import TrainingData, _tokenize, read_examples
from finetune.formatting import Example
from finetune.recipes.augment import augment
from finetune.recipes.schedule import admitted_fraction, mixture_weights, task_probabilities
from finetune.recipes.sources import read_source, row_field
from harness.core.config import MIXTURE_MAIN, MedgateConfig
from harness.core.errors import BadInputError

LINEAR_SEGMENTS = 50
# rows -> base-model loss per row (the curriculum's measured difficulty)
DifficultyFn = Callable[[list[dict]], list[float]]


@dataclass
class Pool:
    name: str
    source: str
    task: str | None
    rows: list[dict]  # tokenized rows with "id" (role:row[:variant]) and "level"
    order: list[int] | None = None  # curriculum: indices, easiest first
    drawn: int = 0


@dataclass
class RecipeStream:
    dataset: Any  # datasets.Dataset: input_ids, attention_mask, labels, recipe_index
    meta: list[dict[str, Any]]  # per position: pool, source, task, id, level
    plan: dict[str, Any]
    total_steps: int
    pools: list[str] = field(default_factory=list)


def stream_needed(config: MedgateConfig) -> bool:
    r = config.recipes
    return bool(r.mixture.sources or r.tasks.field or r.curriculum.order_by != "none"
                or r.augment.rate > 0)


def _check(config: MedgateConfig) -> None:
    if config.dataset.replay.ratio > 0:
        raise BadInputError("dataset.replay is the fixed-ratio form of recipes.mixture: with a "
                            "recipe that orders the training examples, give the replay data as "
                            "a recipes.mixture source instead")
    if config.training.packing:
        raise BadInputError("training.packing: the recipes record each example consumed, which "
                            "packing merges; set training.packing=false")


def _levels(config: MedgateConfig) -> dict[int, float] | None:
    cur = config.recipes.curriculum
    if cur.order_by != "level":
        return None
    raw = row_field(config, cur.level_field, "recipes.curriculum.level_field")
    out: dict[int, float] = {}
    for row, value in raw.items():
        if cur.levels:
            if str(value) not in cur.levels:
                raise BadInputError(f"field '{cur.level_field}' is '{value}', not one of "
                                    f"recipes.curriculum.levels {cur.levels}",
                                    where=f"{config.dataset.name}: row {row}")
            out[row] = float(cur.levels.index(str(value)))
        else:
            try:
                out[row] = float(value)
            except (TypeError, ValueError):
                raise BadInputError(f"field '{cur.level_field}' is '{value}': a number, or name "
                                    "the levels in recipes.curriculum.levels",
                                    where=f"{config.dataset.name}: row {row}") from None
    return out


def _templated(example: Example, template: str | None) -> Example:
    if template is None or example.messages is None:
        return example
    messages = [dict(m) for m in example.messages]
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=None)
    if last_user is None:
        return example
    messages[last_user]["content"] = template.replace("{input}", messages[last_user]["content"])
    return Example(row=example.row, messages=messages, meta=dict(example.meta))


def _main_examples(config: MedgateConfig, data: TrainingData) -> list[Example]:
    """The main rows that train (the held-out validation rows removed)."""
    examples, _ = read_examples(config)
    validation = data.provenance.get("validation") or {}
    held_out = set(validation.get("rows") or [])
    return [e for e in examples if e.row not in held_out]


def _tokenized(examples: list[tuple[Example, str]], tokenizer, max_len: int,
               levels: dict[int, float] | None) -> tuple[list[dict], list[str]]:
    """(row dicts with id and level, ids of the rows dropped as too long or empty)."""
    out, dropped = [], []
    for example, ident in examples:
        kept, _ = _tokenize([example], tokenizer, max_len)
        if not kept:
            dropped.append(ident)
            continue
        out.append({**kept[0], "id": ident,
                    "level": levels.get(example.row) if levels else None})
    return out, dropped


def _pools(config: MedgateConfig, data: TrainingData, tokenizer) -> tuple[list[Pool], dict[str, Any]]:
    r = config.recipes
    max_len = config.training.max_seq_length
    levels = _levels(config)
    main = _main_examples(config, data)
    tasks = row_field(config, r.tasks.field, "recipes.tasks.field") if r.tasks.field else None
    unknown = sorted(set(r.tasks.templates) - set(map(str, (tasks or {}).values())))
    if unknown:
        raise BadInputError(f"recipes.tasks.templates names tasks not in the data: {unknown}")
    info: dict[str, Any] = {}
    labelled = [(_templated(e, r.tasks.templates.get(str(tasks[e.row])) if tasks else None),
                 f"train:{e.row}") for e in main]
    if r.augment.rate > 0:
        copies, info["augment"] = augment([e for e, _ in labelled], r.augment)
        labelled += [(e, f"augmented:{e.row}:{variant}") for e, variant in copies]
    rows, dropped = _tokenized(labelled, tokenizer, max_len, levels)
    if dropped:
        info["main_rows_dropped"] = dropped
    groups: dict[str | None, list[dict]] = {}
    for row in rows:
        groups.setdefault(str(tasks[row["row"]]) if tasks else None, []).append(row)
    pools = [Pool(f"{MIXTURE_MAIN}/{task}" if task else MIXTURE_MAIN, MIXTURE_MAIN, task, group)
             for task, group in sorted(groups.items(), key=lambda kv: str(kv[0]))]
    for source in r.mixture.sources:
        examples, source_info = read_source(config, source.dataset, source.split)
        src_rows, src_dropped = _tokenized([(e, f"{source.name}:{e.row}") for e in examples],
                                           tokenizer, max_len, None)
        if not src_rows:
            raise BadInputError(f"recipes.mixture source '{source.name}': no rows fit "
                                f"training.max_seq_length={max_len}", where=source.dataset)
        info.setdefault("sources", {})[source.name] = {
            "where": source_info.get("source"), "rows": len(src_rows),
            "rows_dropped": src_dropped, "files": source_info.get("files", [])}
        pools.append(Pool(source.name, source.name, None, src_rows))
    return pools, info


def _curriculum_order(config: MedgateConfig, pools: list[Pool],
                      difficulty: DifficultyFn | None) -> dict[str, Any] | None:
    cur = config.recipes.curriculum
    if cur.order_by == "none":
        return None
    main_pools = [p for p in pools if p.source == MIXTURE_MAIN]
    if cur.order_by == "loss":
        if difficulty is None:
            raise BadInputError("recipes.curriculum.order_by=loss needs the base model's losses")
        flat = [row for p in main_pools for row in p.rows]
        losses = difficulty(flat)
        for row, loss in zip(flat, losses):
            row["level"] = float(loss)
    record = {}
    for pool in main_pools:
        pool.order = sorted(range(len(pool.rows)), key=lambda i: (pool.rows[i]["level"],
                                                                  pool.rows[i]["id"]))
        record[pool.name] = [{"id": pool.rows[i]["id"], "level": pool.rows[i]["level"]}
                             for i in pool.order]
    return {"order_by": cur.order_by, "pacing": cur.pacing, "start_fraction": cur.start_fraction,
            "full_at": cur.full_at, "order": record}


def _pool_weights(config: MedgateConfig, pools: list[Pool], progress: float) -> list[float]:
    r = config.recipes
    mix = mixture_weights(r.mixture, progress) if r.mixture.sources else {MIXTURE_MAIN: 1.0}
    task_pools = {p.task: len(p.rows) for p in pools if p.source == MIXTURE_MAIN and p.task}
    task_p = task_probabilities(r.tasks, task_pools) if task_pools else {}
    return [mix[p.source] * (task_p[p.task] if p.task else 1.0) for p in pools]


def _segments(config: MedgateConfig, total: int) -> list[tuple[int, int, float]]:
    """(start, end, progress at which the weights are read) per segment."""
    mixture = config.recipes.mixture
    if not mixture.sources or mixture.schedule == "constant":
        return [(0, total, 0.0)]
    if mixture.schedule == "step":
        cut = round(mixture.step_at * total)
        return [(0, cut, 0.0), (cut, total, 1.0)]
    k = min(LINEAR_SEGMENTS, total)
    bounds = [round(i * total / k) for i in range(k + 1)]
    return [(a, b, ((a + b) / 2) / total) for a, b in itertools.pairwise(bounds) if b > a]


def _interleaved_pools(weights: list[float], length: int, seed: int) -> list[int]:
    """Which pool supplies each of `length` examples, drawn by datasets.interleave_datasets."""
    import datasets

    live = [i for i, w in enumerate(weights) if w > 0]
    total = sum(weights[i] for i in live)
    parts = [datasets.Dataset.from_dict({"pool": [i] * length}) for i in live]
    if len(parts) == 1:
        return [live[0]] * length
    mixed = datasets.interleave_datasets(parts, probabilities=[weights[i] / total for i in live],
                                         seed=seed, stopping_strategy="first_exhausted")
    return list(mixed["pool"][:length])


def _draw(pool: Pool, config: MedgateConfig, progress: float, rng: random.Random,
          passes: dict[str, list[int]]) -> int:
    n = len(pool.rows)
    if pool.order is not None:
        admitted = max(1, math.ceil(admitted_fraction(config.recipes.curriculum, progress) * n))
        return pool.order[rng.randrange(min(admitted, n))]
    epoch, k = divmod(pool.drawn, n)
    order = passes.get(pool.name)
    if order is None or k == 0:
        order = list(range(n))
        random.Random(f"{config.training.seed}:{pool.name}:{epoch}").shuffle(order)
        passes[pool.name] = order
    pool.drawn += 1
    return order[k]


def total_steps(config: MedgateConfig, main_rows: int, world_size: int) -> tuple[int, int]:
    """(optimizer steps, examples per step): max_steps, else num_epochs over the main rows."""
    t = config.training
    per_step = t.micro_batch_size * t.gradient_accumulation * world_size
    steps = t.max_steps if t.max_steps > 0 else max(1, math.ceil(t.num_epochs * main_rows / per_step))
    return steps, per_step


def build_stream(config: MedgateConfig, tokenizer, data: TrainingData, *, world_size: int = 1,
                 difficulty: DifficultyFn | None = None) -> RecipeStream:
    import datasets

    _check(config)
    pools, info = _pools(config, data, tokenizer)
    main_rows = sum(len(p.rows) for p in pools if p.source == MIXTURE_MAIN)
    if not main_rows:
        raise BadInputError("no main training rows left for the recipe", where=config.dataset.name)
    curriculum = _curriculum_order(config, pools, difficulty)
    steps, per_step = total_steps(config, main_rows, world_size)
    total = steps * per_step
    rng = random.Random(config.training.seed)
    passes: dict[str, list[int]] = {}
    rows: list[dict] = []
    meta: list[dict[str, Any]] = []
    segments = []
    for number, (start, end, at) in enumerate(_segments(config, total)):
        weights = _pool_weights(config, pools, at)
        choice = _interleaved_pools(weights, end - start, config.training.seed + number)
        total_w = sum(weights)
        segments.append({"start": start, "end": end,
                         "probabilities": {p.name: w / total_w for p, w in zip(pools, weights)}})
        for offset, k in enumerate(choice):
            pool = pools[k]
            position = start + offset
            row = pool.rows[_draw(pool, config, position / total, rng, passes)]
            rows.append({"input_ids": row["input_ids"], "attention_mask": row["attention_mask"],
                         "labels": row["labels"], "recipe_index": position})
            meta.append({"pool": pool.name, "source": pool.source, "task": pool.task,
                         "id": row["id"], "level": row["level"]})
    plan = {"total_steps": steps, "examples_per_step": per_step, "examples": total,
            "pools": {p.name: {"source": p.source, "task": p.task, "rows": len(p.rows)}
                      for p in pools},
            "segments": segments, "curriculum": curriculum, **info}
    return RecipeStream(datasets.Dataset.from_list(rows), meta, plan, steps, [p.name for p in pools])
