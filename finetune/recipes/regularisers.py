"""Forgetting regularisers added to the training loss (the lecture's EWC, L2 toward the
pre-trained weights, and knowledge distillation; replay is recipes.mixture).

- L2-SP: strength/2 * sum (theta - theta_start)^2 over the trained parameters.
- EWC: strength/2 * sum F (theta - theta_start)^2, F the diagonal Fisher information
  estimated at the start of training from the squared gradients of the log-likelihood of
  general text. For a LoRA adapter the gradient of A is zero at the start (B = 0), so EWC
  weighs only B; the adapter's product BA is still held back through B.
- Distillation: strength * T^2 * KL(base || model) of the next-token distributions on
  general text, one batch each training step. For an adapter the base is the same weights
  with the adapter disabled, so no second copy of the model is held in memory.

Each term is returned by name so the trainer can log it beside the loss.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

import torch

from finetune.recipes.difficulty import pad
from finetune.recipes.losses import next_token_kl
from harness.core.config import RegularisersConfig
from harness.core.errors import BadInputError


class Regularisers:
    """The configured terms for one model, anchored at its state when constructed."""

    def __init__(self, cfg: RegularisersConfig, model, general_rows: list[dict], *, method: str) -> None:
        self.cfg = cfg
        self.params = {n: p for n, p in model.named_parameters() if p.requires_grad}
        needs_anchor = cfg.ewc.strength > 0 or cfg.l2_sp.strength > 0
        self.start = {n: p.detach().clone() for n, p in self.params.items()} if needs_anchor else {}
        self.device = next(model.parameters()).device
        self.fisher: dict[str, torch.Tensor] = {}
        if (cfg.ewc.strength > 0 or cfg.distill.strength > 0) and not general_rows:
            raise BadInputError("recipes.regularisers: EWC and distillation need general text; "
                                "no rows of recipes.regularisers.general_data fit "
                                "training.max_seq_length")
        if cfg.distill.strength > 0 and (method == "full" or not hasattr(model, "disable_adapter")):
            raise BadInputError("recipes.regularisers.distill needs an adapter method (lora, "
                                "qlora, prefix, ia3): the base is the model with its adapter "
                                "disabled, never a second copy in memory")
        if cfg.ewc.strength > 0:
            self.fisher = self._fisher(model, general_rows[:cfg.ewc.samples])
        self._batches: Iterator[list[dict]] = self._cycle(general_rows, cfg.distill.batch_size)

    @staticmethod
    def _cycle(rows: list[dict], size: int) -> Iterator[list[dict]]:
        batches = [rows[i:i + size] for i in range(0, len(rows), size)] or [[]]
        return itertools.cycle(batches)

    def _fisher(self, model, rows: list[dict]) -> dict[str, torch.Tensor]:
        """Mean squared gradient of each example's log-likelihood (the empirical Fisher)."""
        was_training = model.training
        model.eval()
        fisher = {n: torch.zeros_like(p) for n, p in self.params.items()}
        try:
            for row in rows:
                model.zero_grad(set_to_none=True)
                batch = pad([row], self.device)
                model(**batch).loss.backward()
                for n, p in self.params.items():
                    if p.grad is not None:
                        fisher[n] += p.grad.detach() ** 2 / len(rows)
        finally:
            model.zero_grad(set_to_none=True)
            model.train(was_training)
        return fisher

    def terms(self, model) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        if self.cfg.l2_sp.strength > 0:
            total = sum(((p - self.start[n]) ** 2).sum() for n, p in self.params.items())
            out["l2_sp"] = self.cfg.l2_sp.strength / 2 * total
        if self.cfg.ewc.strength > 0:
            total = sum((self.fisher[n] * (p - self.start[n]) ** 2).sum()
                        for n, p in self.params.items())
            out["ewc"] = self.cfg.ewc.strength / 2 * total
        if self.cfg.distill.strength > 0:
            out["distill"] = self.cfg.distill.strength * self._distill(model)
        return out

    def _distill(self, model) -> torch.Tensor:
        batch = pad(next(self._batches), self.device)
        inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        with torch.no_grad(), _adapter_off(model):
            teacher = model(**inputs).logits
        student = model(**inputs).logits
        mask = batch["attention_mask"][:, 1:]
        return next_token_kl(teacher[:, :-1], student[:, :-1], mask, self.cfg.distill.temperature)


@contextlib.contextmanager
def _adapter_off(model):
    with model.disable_adapter():
        yield
