"""Per-example and distribution losses shared by the recipes (torch only)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def per_example_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy of each row over its labelled tokens (NaN-free: a
    row without labels scores 0)."""
    shift_logits = logits[:, :-1, :].float()
    shift_labels = labels[:, 1:]
    token = F.cross_entropy(shift_logits.reshape(-1, shift_logits.size(-1)), shift_labels.reshape(-1),
                            ignore_index=-100, reduction="none").view(shift_labels.shape)
    counted = (shift_labels != -100).sum(dim=1)
    return token.sum(dim=1) / counted.clamp(min=1)


def next_token_kl(teacher_logits: torch.Tensor, student_logits: torch.Tensor,
                  mask: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher || student) of the next-token distributions, averaged over the tokens
    of `mask`, scaled by T^2 as in Hinton et al. so its gradient keeps its size in T."""
    t = temperature
    teacher = F.log_softmax(teacher_logits.float() / t, dim=-1)
    student = F.log_softmax(student_logits.float() / t, dim=-1)
    kl = (teacher.exp() * (teacher - student)).sum(dim=-1)
    weights = mask.float()
    return (kl * weights).sum() / weights.sum().clamp(min=1) * t * t
