"""The model card's "Training recipe" section: which recipes trained the model (mixture,
task weights, curriculum, regularisers, augmentation, layer-wise learning rates, preset),
what they did (train/recipes.json), and the measured share of each source in the batches
trained per logging step (train/history.json), plotted."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from finetune.recipes.record import configured
from harness.core.config import RecipesConfig
from reports import plots
from reports.rundata import RunData

SHARE = "recipe.share."
TASK_LOSS = "recipe.task_loss."
TERMS = ("recipe.ewc", "recipe.l2_sp", "recipe.distill")


def _shares(history: list[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    out: dict[str, list[tuple[int, float]]] = {}
    for entry in history:
        for key, value in entry.items():
            if key.startswith(SHARE) and plots._finite(value):
                out.setdefault(key[len(SHARE):], []).append((entry["step"], value))
    return out


def share_plot(history: list[dict[str, Any]]) -> str | None:
    """The share of each source in the examples trained at each logging step."""
    shares = _shares(history)
    if not shares:
        return None
    fig, ax = plots._figure()
    for source, points in sorted(shares.items()):
        ax.plot(*zip(*points), marker=".", label=source)
    ax.set_xlabel("step")
    ax.set_ylabel("share of examples trained")
    ax.set_ylim(0, 1)
    ax.legend()
    return plots._data_uri(fig)


def _last(history: list[dict[str, Any]], prefix: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for entry in history:
        for key, value in entry.items():
            if key.startswith(prefix) and plots._finite(value):
                found[key[len(prefix):] if prefix.endswith(".") else key] = value
    return found


def recipe_context(data: RunData) -> dict[str, Any] | None:
    """None when the run used no recipe; else what the section shows."""
    raw = data.config.get("recipes")
    try:
        recipes = configured(RecipesConfig.model_validate(raw or {}))
    except ValidationError:
        return {"configured": {}, "error": "recipes in config.resolved.yaml do not validate"}
    if not recipes:
        return None
    path = data.run.train_dir / "recipes.json"
    record = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    plan = record.get("plan") or {}
    history = data.history
    return {
        "configured": {k: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
                       for k, v in recipes.items()},
        "examples": plan.get("examples"), "pools": plan.get("pools") or {},
        "augment": plan.get("augment"), "general_data": record.get("general_data"),
        "curriculum": (plan.get("curriculum") or {}).get("order_by"),
        "task_loss": _last(history, TASK_LOSS),
        "terms": {k: v for k, v in _last(history, "recipe.").items() if k in TERMS},
        "share_plot": share_plot(history),
        "last_shares": _last(history, SHARE),
        "recorded": path.exists(),
    }


def markdown_lines(recipe: dict[str, Any] | None) -> list[str]:
    """The same section for model_card.md (the measured shares as their last values: a
    Markdown card carries no plot)."""
    if not recipe:
        return []
    lines = ["", "## Training recipe", ""]
    if recipe.get("error"):
        lines += [recipe["error"], ""]
    lines += ["| recipe | setting |", "| --- | --- |"]
    lines += [f"| {name} | `{value}` |" for name, value in recipe["configured"].items()]
    lines.append("")  # the table ends before any paragraph or list
    if recipe.get("examples"):
        lines += [(f"The recipe's sequence held {recipe['examples']} examples, trained in "
                   "order (consumed examples: `train/consumed.jsonl`; plan: "
                   "`train/recipes.json`)."), ""]
    for name, pool in (recipe.get("pools") or {}).items():
        lines.append(f"- pool {name}: {pool.get('source')}, task {pool.get('task') or '—'}, "
                     f"{pool.get('rows')} rows")
    augment = recipe.get("augment")
    if augment:
        lines.append(f"- augmentation: {augment.get('copies')} perturbed copies of "
                     f"{augment.get('rows_considered')} rows (rate {augment.get('rate')})")
    general = recipe.get("general_data")
    if general:
        lines.append(f"- regularisers' general text: {general.get('source')} ({general.get('rows')} "
                     f"rows{', demo data' if general.get('demo') else ''})")
    for label, values in (("regulariser terms", recipe.get("terms")),
                          ("training loss per task", recipe.get("task_loss")),
                          ("share of each source trained", recipe.get("last_shares"))):
        if values:
            lines.append(f"- {label} at the last logging step: "
                         + ", ".join(f"{k} {v:.4g}" for k, v in sorted(values.items())))
    return lines
