"""Everything the trainer needs from the recipes, made in one call before training."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune.datasets import TrainingData, _tokenize
from finetune.recipes.record import configured, regularisers_active
from finetune.recipes.regularisers import Regularisers
from finetune.recipes.runtime import RecipeCollator, RecipeState, recipe_trainer_class
from finetune.recipes.sources import general_source, read_source
from finetune.recipes.stream import build_stream, stream_needed
from harness.core.atomic import write_json
from harness.core.config import MedgateConfig


@dataclass
class RecipeSetup:
    state: RecipeState
    train_dataset: Any
    max_steps: int | None  # the steps the recipe's sequence was built for
    record: dict[str, Any]

    def trainer_class(self, base: type) -> type:
        return recipe_trainer_class(base)

    def collator(self, base):
        return RecipeCollator(base) if self.state.stream is not None else base


def _general_rows(config: MedgateConfig, tokenizer) -> tuple[list[dict], dict[str, Any]]:
    examples, info = read_source(config, general_source(config))
    rows, dropped = _tokenize(examples, tokenizer, config.training.max_seq_length)
    return rows, {"source": info.get("source"), "rows": len(rows), "demo": info.get("demo", False),
                  "rows_dropped": {k: len(v) for k, v in dropped.items()}}


def prepare(config: MedgateConfig, tokenizer, data: TrainingData, model, *, train_dir: Path,
            spec, main: bool, resume: bool, world_size: int = 1) -> RecipeSetup:
    """The recipe's training sequence, regularisers and trainer state; writes
    train/recipes.json (the plan, the curriculum's order) on the main process."""
    from finetune.recipes.difficulty import example_losses
    from harness.core.models import fingerprint

    stream = None
    if stream_needed(config):
        stream = build_stream(config, tokenizer, data, world_size=world_size,
                              difficulty=lambda rows: example_losses(model, rows, fingerprint(spec)))
    regularisers = None
    record: dict[str, Any] = {"configured": configured(config.recipes)}
    if regularisers_active(config.recipes.regularisers):
        general, record["general_data"] = _general_rows(config, tokenizer)
        regularisers = Regularisers(config.recipes.regularisers, model, general,
                                    method=config.peft.method)
    consumed = train_dir / "consumed.jsonl" if main and stream is not None else None
    if consumed is not None and not resume:
        consumed.unlink(missing_ok=True)
    if stream is not None:
        record["plan"] = stream.plan
    if main:
        write_json(train_dir / "recipes.json", record)
    state = RecipeState(config.recipes, stream, regularisers, consumed)
    return RecipeSetup(state, stream.dataset if stream is not None else data.train,
                       stream.total_steps if stream is not None else None, record)
