"""The recipes inside the Trainer: a mixin over transformers' Trainer (or any subclass of
it) that reads the recipe's example sequence in order, records each example consumed,
adds the regularisers' terms to the loss, logs shares, per-task losses and the terms at
every logging step, and builds layer-wise learning-rate groups.

Logged keys start with `recipe.` (history.json keeps them): `recipe.share.<source>`,
`recipe.task_loss.<task>`, `recipe.<term>` (ewc, l2_sp, distill), `recipe.admitted`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import SequentialSampler

from finetune.recipes.layer_lr import num_layers, param_groups
from finetune.recipes.losses import per_example_loss
from finetune.recipes.regularisers import Regularisers
from finetune.recipes.schedule import admitted_fraction
from finetune.recipes.stream import RecipeStream
from harness.core.config import RecipesConfig


@dataclass
class RecipeState:
    config: RecipesConfig
    stream: RecipeStream | None
    regularisers: Regularisers | None
    consumed_path: Path | None  # None: not the main process, nothing recorded
    _pending: list[dict] = field(default_factory=list)
    _shares: Counter = field(default_factory=Counter)
    _task_loss: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    _terms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    _last_progress: float = 0.0

    def record(self, step: int, indices: list[int], losses: list[float]) -> None:
        assert self.stream is not None
        for index, loss in zip(indices, losses):
            meta = self.stream.meta[index]
            self._shares[meta["source"]] += 1
            if meta["task"] is not None:
                self._task_loss[meta["task"]].append(loss)
            if self.consumed_path is not None:
                self._pending.append({"step": step, "index": index, **meta})
            self._last_progress = index / max(len(self.stream.meta), 1)

    def add_terms(self, terms: dict[str, torch.Tensor]) -> None:
        for name, value in terms.items():
            self._terms[name].append(float(value.detach()))

    def log_values(self) -> dict[str, float]:
        out: dict[str, float] = {}
        total = sum(self._shares.values())
        if self.stream is not None and total:
            sources = sorted({m["source"] for m in self.stream.meta})
            out.update({f"recipe.share.{s}": self._shares[s] / total for s in sources})
        for task, values in sorted(self._task_loss.items()):
            out[f"recipe.task_loss.{task}"] = sum(values) / len(values)
        for name, values in sorted(self._terms.items()):
            out[f"recipe.{name}"] = sum(values) / len(values)
        if self.stream is not None and self.config.curriculum.order_by != "none":
            out["recipe.admitted"] = admitted_fraction(self.config.curriculum, self._last_progress)
        self._shares.clear()
        self._task_loss.clear()
        self._terms.clear()
        self.flush()
        return out

    def flush(self) -> None:
        if self.consumed_path is None or not self._pending:
            return
        with self.consumed_path.open("a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(entry) + "\n" for entry in self._pending)
        self._pending.clear()


class RecipeCollator:
    """Moves `recipe_index` past a collator that only knows the token fields."""

    def __init__(self, base) -> None:
        self.base = base

    def __call__(self, features: list[dict[str, Any]]):
        indices = [f["recipe_index"] for f in features if "recipe_index" in f]
        stripped = [{k: v for k, v in f.items() if k != "recipe_index"} for f in features]
        batch = self.base(stripped)
        if indices:
            batch["recipe_index"] = torch.tensor(indices, dtype=torch.long)
        return batch


class RecipeMixin:
    """Put before the Trainer class: `type("RecipeTrainer", (RecipeMixin, Trainer), {})`."""

    recipe: RecipeState

    def _get_train_sampler(self, train_dataset=None):
        if self.recipe.stream is not None:  # the recipe's order is the order trained
            return SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)
        return super()._get_train_sampler(train_dataset)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        indices = inputs.pop("recipe_index", None)
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True,
                                             num_items_in_batch=num_items_in_batch)
        if model.training:
            if indices is not None and self.recipe.stream is not None:
                with torch.no_grad():
                    losses = per_example_loss(outputs.logits.detach(), inputs["labels"]).tolist()
                self.recipe.record(self.state.global_step + 1, indices.tolist(), losses)
            if self.recipe.regularisers is not None:
                terms = self.recipe.regularisers.terms(model)
                self.recipe.add_terms(terms)
                extra = sum(terms.values())
                # the Trainer divides the loss by the accumulation steps unless it is
                # already normalised over the whole step; the terms are per micro batch
                scaled = self.loss_is_scaled_for_ga if self.loss_is_scaled_for_ga is not None else (
                    (self.model_accepts_loss_kwargs and num_items_in_batch is not None)
                    or self.compute_loss_func is not None)
                loss = loss + (extra / self.current_gradient_accumulation_steps if scaled else extra)
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if "loss" in logs:
            logs = {**logs, **self.recipe.log_values()}
        super().log(logs, *args, **kwargs)

    def create_optimizer(self, model=None):
        ratio = self.recipe.config.layer_lr_ratio
        if ratio > 1 and self.optimizer is None:
            opt_model = self.model if model is None else model
            cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
            kwargs = {k: v for k, v in kwargs.items() if k != "lr"}
            groups = param_groups(opt_model, self.args.learning_rate, ratio, self.args.weight_decay,
                                  set(self.get_decay_parameter_names(opt_model)),
                                  num_layers(opt_model))
            self.optimizer = cls(groups, **kwargs)
        return super().create_optimizer(model)


def recipe_trainer_class(base: type) -> type:
    """`base` (transformers.Trainer or a subclass of it) with the recipes mixed in."""
    return type(f"Recipe{base.__name__}", (RecipeMixin, base), {})
