"""Adversarial augmentation: perturbed copies of training prompts, made by the same
engine the robustness suite scores with (suites.perturb), meaning guard included.

A row is chosen with probability `rate` from its own seed (seed, row), and its variant
likewise, so the copies of a row never depend on the other rows: the data preflight
augments every row (training and held-out validation alike) and so checks a superset of
the copies trained on. Only the prompt is perturbed; the answer stays the one written, so
the model learns to give it to a noisy question ("reduce sensitivity to typos").
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from typing import Any

from finetune.formatting import Example
from harness.core.config import AugmentConfig
from harness.core.errors import BadInputError
from suites.base import MCItem
from suites.perturb import DEFAULT_VARIANTS, Perturber
from suites.perturb.seeding import derive_seed
from suites.perturb.synonyms import load_lexicon

# Variants that perturb one text: reordering options has no meaning for a prompt, and
# age_shift changes the question (the guard lets it move ages), so neither is offered.
PROMPT_VARIANTS = tuple(v for v in DEFAULT_VARIANTS if v != "option_order")


def check_variants(cfg: AugmentConfig) -> None:
    unknown = [v for v in cfg.variants if v not in PROMPT_VARIANTS]
    if unknown or not cfg.variants:
        raise BadInputError(f"recipes.augment.variants: {unknown or 'none given'} (known: "
                            f"{', '.join(PROMPT_VARIANTS)})")


def _prompt(example: Example) -> str | None:
    if example.messages is None:
        return example.prompt_text or None
    users = [i for i, m in enumerate(example.messages) if m["role"] == "user"]
    return example.messages[users[-1]]["content"] if users else None


def _with_prompt(example: Example, text: str) -> Example:
    if example.messages is None:
        return replace(example, prompt_text=text)
    last_user = max(i for i, m in enumerate(example.messages) if m["role"] == "user")
    messages = [dict(m) for m in example.messages]
    messages[last_user]["content"] = text
    return replace(example, messages=messages)


def augment(examples: list[Example], cfg: AugmentConfig) -> tuple[list[tuple[Example, str]], dict[str, Any]]:
    """The perturbed copies (example, variant) of the rows chosen, and what happened."""
    check_variants(cfg)
    perturber = Perturber(cfg.seed, load_lexicon() if "synonym" in cfg.variants else None)
    copies: list[tuple[Example, str]] = []
    status: Counter[str] = Counter()
    for example in examples:
        rng = random.Random(derive_seed(cfg.seed, f"row-{example.row}", "augment"))
        if rng.random() >= cfg.rate:
            continue
        variant = cfg.variants[rng.randrange(len(cfg.variants))]
        prompt = _prompt(example)
        if prompt is None:
            status["no_prompt"] += 1
            continue
        item = MCItem(item_id=f"train-row-{example.row}", question=prompt, options=("",), answer=0)
        result = perturber.perturb(item, variant)
        status[result.status] += 1
        if result.status == "kept" and result.item is not None:
            copies.append((_with_prompt(example, result.item.question), variant))
    info = {"rate": cfg.rate, "variants": list(cfg.variants), "seed": cfg.seed,
            "rows_considered": len(examples), "copies": len(copies),
            "by_status": dict(sorted(status.items())),
            "by_variant": dict(sorted(Counter(v for _, v in copies).items()))}
    return copies, info
