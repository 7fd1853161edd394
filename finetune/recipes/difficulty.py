"""The curriculum's measured difficulty: the base model's loss on each training example,
computed once and cached by (model fingerprint, tokenized example).

The model passed in is the one about to train, before its first step: a LoRA adapter
starts as the identity (B = 0) and is switched off anyway, so the loss is the base
model's. The cache is a JSON file per example set under $MEDGATE_CACHE/difficulty.
"""

from __future__ import annotations

import hashlib
import json

from harness.core.atomic import write_json
from harness.core.cache_dir import cache_root


def _key(fingerprint: str, rows: list[dict]) -> str:
    digest = hashlib.sha256(fingerprint.encode("utf-8"))
    for row in rows:
        digest.update(json.dumps([row["input_ids"], row["labels"]]).encode("utf-8"))
    return digest.hexdigest()


def example_losses(model, rows: list[dict], fingerprint: str, batch_size: int = 8) -> list[float]:
    """Mean next-token loss over each row's answer tokens, from the cache when known."""
    path = cache_root() / "difficulty" / f"{_key(fingerprint, rows)}.json"
    if path.exists():
        cached = json.loads(path.read_text(encoding="utf-8"))
        if len(cached) == len(rows):
            return [float(x) for x in cached]
    losses = _compute(model, rows, batch_size)
    write_json(path, losses)
    return losses


def _compute(model, rows: list[dict], batch_size: int) -> list[float]:
    import contextlib

    import torch

    from finetune.recipes.losses import per_example_loss

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    off = model.disable_adapter() if hasattr(model, "disable_adapter") else contextlib.nullcontext()
    out: list[float] = []
    try:
        with torch.no_grad(), off:
            for start in range(0, len(rows), batch_size):
                batch = pad(rows[start:start + batch_size], device)
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                out += per_example_loss(logits, batch["labels"]).tolist()
    finally:
        model.train(was_training)
    return out


def pad(rows: list[dict], device) -> dict:
    """Right-padded tensors of a few tokenized rows (labels -100 on padding)."""
    import torch

    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r["input_ids"])
        ids[i, :n] = torch.tensor(r["input_ids"])
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(r["labels"])
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}
