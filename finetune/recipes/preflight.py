"""The recipes' inputs for the data preflight: every row a recipe adds to training (the
mixture's sources, the regularisers' general text, the augmented copies), so PHI, row
quality and overlap with the evaluation suites are checked on what is trained, not only
on the main file. Read without a tokenizer, like the rest of the preflight."""

from __future__ import annotations

from finetune.datasets import read_examples
from finetune.recipes.augment import augment
from finetune.recipes.record import regularisers_active
from finetune.recipes.sources import general_source, read_source
from harness.core.config import MedgateConfig


def _where(info: dict) -> str:
    files = info.get("files") or []
    return str(files[0]["path"]) if len(files) == 1 else str(info.get("source"))


def recipe_sources(config: MedgateConfig) -> list[tuple[str, str, list[tuple[int, str]]]]:
    """(role, where, [(row, text)]) per input; the augmented copies carry the row number
    of the row they copy (every row is augmented here, validation rows too, a superset of
    the copies trained on)."""
    r = config.recipes
    out: list[tuple[str, str, list[tuple[int, str]]]] = []
    for source in r.mixture.sources:
        examples, info = read_source(config, source.dataset, source.split)
        out.append((f"mixture:{source.name}", _where(info), [(e.row, e.text) for e in examples]))
    reg = r.regularisers
    if regularisers_active(reg) and (reg.ewc.strength > 0 or reg.distill.strength > 0):
        examples, info = read_source(config, general_source(config))
        out.append(("regulariser", _where(info), [(e.row, e.text) for e in examples]))
    if r.augment.rate > 0:
        examples, info = read_examples(config)
        copies, _ = augment(examples, r.augment)
        out.append(("augmented", f"{_where(info)} (perturbed copies)",
                    [(e.row, e.text) for e, _ in copies]))
    return out
