"""Discriminative learning rates by depth (the lecture: lower layers smaller, preserving
general features; upper layers larger; bottom:top 1:10).

Layer i of L trains at lr * ratio^(i/(L-1) - 1): the bottom layer at lr/ratio, the top at
lr, geometric in between. Parameters outside the numbered layers take the rate of the
end they sit at: embeddings the bottom's, the final norm and the output head the top's.
The learning-rate schedule multiplies every group alike, so the ratio holds throughout.
"""

from __future__ import annotations

import re

_LAYER = re.compile(r"\.layers\.(\d+)\.")
_BOTTOM = ("embed", "wte", "wpe")


def layer_scale(name: str, num_layers: int, ratio: float) -> float:
    found = _LAYER.search(name)
    if found:
        depth = int(found.group(1)) / max(num_layers - 1, 1)
    else:
        depth = 0.0 if any(part in name for part in _BOTTOM) else 1.0
    return ratio ** (depth - 1.0)


def param_groups(model, lr: float, ratio: float, weight_decay: float,
                 decay_names: set[str], num_layers: int) -> list[dict]:
    """Optimizer groups, one per (learning rate, decays or not)."""
    groups: dict[tuple[float, bool], dict] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        rate = lr * layer_scale(name, num_layers, ratio)
        decays = name in decay_names
        group = groups.setdefault((rate, decays), {"params": [], "lr": rate,
                                                   "weight_decay": weight_decay if decays else 0.0})
        group["params"].append(param)
    return list(groups.values())


def num_layers(model) -> int:
    config = getattr(model, "config", None)
    for key in ("num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    found = [int(m.group(1)) for n, _ in model.named_parameters() if (m := _LAYER.search(n))]
    return max(found) + 1 if found else 1
