"""What a config's recipes switch on, in the words lineage.json, train/recipes.json and
the model card use (no torch: the pipeline and the reports read it)."""

from __future__ import annotations

from typing import Any

from harness.core.config import RecipesConfig, RegularisersConfig


def regularisers_active(cfg: RegularisersConfig) -> bool:
    return cfg.ewc.strength > 0 or cfg.l2_sp.strength > 0 or cfg.distill.strength > 0


def configured(recipes: RecipesConfig) -> dict[str, Any]:
    """The recipes a config switches on, in the words lineage and the model card use."""
    out: dict[str, Any] = {}
    if recipes.preset:
        out["preset"] = recipes.preset
    if recipes.mixture.sources:
        out["mixture"] = recipes.mixture.model_dump(mode="json")
    if recipes.tasks.field:
        out["tasks"] = recipes.tasks.model_dump(mode="json")
    if recipes.curriculum.order_by != "none":
        out["curriculum"] = recipes.curriculum.model_dump(mode="json")
    reg = recipes.regularisers
    terms = {name: getattr(reg, name).model_dump(mode="json") for name in ("ewc", "l2_sp", "distill")
             if getattr(reg, name).strength > 0}
    if terms:
        out["regularisers"] = {"general_data": reg.general_data, **terms}
    if recipes.augment.rate > 0:
        out["augment"] = recipes.augment.model_dump(mode="json")
    if recipes.layer_lr_ratio > 1:
        out["layer_lr_ratio"] = recipes.layer_lr_ratio
    return out


# The strengths the README recommends as a start, and the ones bench/forgetting_regularisers
# measures at a destructive learning rate (general-knowledge delta against no regulariser).
RECOMMENDED_STRENGTHS = {"ewc": 5000.0, "l2_sp": 0.01, "distill": 1.0}
