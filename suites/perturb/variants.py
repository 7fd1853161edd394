"""Turning a clean multiple-choice item into its named variants, each checked by the guard.

Every variant is drawn from its own seed (run seed, item id, variant name), so adding a
variant or an item never changes another's text. A variant ends in one of four states,
all counted by the suite: `kept` (scored), `dropped` (the guard found a changed fact),
`not_applicable` (e.g. demographics of a pregnancy item) or `unchanged` (the augmenter
found nothing to change; scoring it would count the clean answer twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from suites.base import MCItem
from suites.perturb import demographic, distractor, noise, reorder
from suites.perturb.guard import check_item
from suites.perturb.seeding import derive_seed, seeded
from suites.perturb.synonyms import Lexicon, SynonymSwapper

# Meaning-preserving variants, run by default: the guard keeps only copies whose numbers,
# units and negations are the clean item's, so their consistency is about the same question.
DEFAULT_VARIANTS = ("typo_keyboard", "ocr", "char_random", "spelling", "synonym",
                    "demographic", "option_order", "distractor")
# Variants that change the question (an age can cross a clinical threshold): run only when
# asked for, and never pooled with the meaning-preserving ones (suites.metrics.robustness).
CHANGES_QUESTION = ("age_shift",)
KNOWN_VARIANTS = DEFAULT_VARIANTS + CHANGES_QUESTION
Status = Literal["kept", "dropped", "not_applicable", "unchanged"]


@dataclass
class Variant:
    """One perturbed copy of an item and what happened to it."""

    name: str
    item: MCItem | None
    status: Status
    option_map: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


class Perturber:
    """Builds variants of items. `lexicon` is needed only for the `synonym` variant,
    `age_shift_years` only for `age_shift`."""

    def __init__(self, seed: int, lexicon: Lexicon | None = None, *,
                 age_shift_years: int = 4) -> None:
        self.seed = seed
        self.lexicon = lexicon
        self.age_shift_years = age_shift_years
        self._swapper = SynonymSwapper(lexicon) if lexicon is not None else None

    def perturb(self, item: MCItem, variant: str) -> Variant:
        identity = list(range(len(item.options)))
        with seeded(derive_seed(self.seed, item.item_id, variant)) as rng:
            if variant in noise.NOISE_VARIANTS:
                new = replace(item, question=noise.add_noise(item.question, variant))
                mapping = identity
            elif variant == "synonym":
                if self._swapper is None:
                    raise ValueError("the synonym variant needs a lexicon")
                new = replace(item, question=self._swapper.swap(item.question),
                              context=self._swapper.swap(item.context) if item.context else None,
                              options=tuple(self._swapper.swap(o) for o in item.options))
                mapping = identity
            elif variant in ("demographic", "age_shift"):
                texts = [item.question, item.context or "", *item.options]
                why = demographic.not_applicable_reason(texts)
                if why:
                    return Variant(variant, None, "not_applicable", reasons=[why])
                plan = demographic.plan(texts, rng) if variant == "demographic" else \
                    demographic.age_shift_proposal(texts, rng, self.age_shift_years)
                new = replace(item, question=demographic.apply(item.question, plan),
                              context=demographic.apply(item.context, plan),
                              options=tuple(demographic.apply(o, plan) for o in item.options))
                mapping = identity
            elif variant == "option_order":
                new, mapping = reorder.permute_options(item, rng)
            elif variant == "distractor":
                new = replace(item, question=distractor.add_distractor(item.question, rng))
                mapping = identity
            else:
                raise ValueError(f"unknown perturbation {variant!r}")
        if (new.question, new.context, new.options) == (item.question, item.context,
                                                        item.options):
            return Variant(variant, None, "unchanged", reasons=["nothing to change"])
        verdict = check_item(item, new, mapping, allow_age=(variant == "age_shift"))
        if not verdict.kept:
            return Variant(variant, None, "dropped", mapping, verdict.reasons)
        meta = {**item.meta, "perturbation": variant, "option_map": mapping}
        return Variant(variant, replace(new, meta=meta), "kept", mapping)
