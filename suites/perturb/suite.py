"""`medqa-robust`: a multiple-choice suite scored clean and under named perturbations.

Records: one per (item, variant), variant "clean" or a perturbation name. Summary
entries (the spec's `metrics:`, defined in suites/metrics/robustness.py; the gate reads
these names): `accuracy.clean`, `accuracy.<v>`, `accuracy_drop.<v>` (clean minus variant
over the same items, paired bootstrap CI), `consistency.<v>`, `consistency` (all kept
variant records), `flips.<v>` (count of correctness flips, with both directions and
McNemar's p). The suite info says what the guard dropped and what did not apply, per
variant.

Spec options: `variants` (list, default the meaning-preserving DEFAULT_VARIANTS; the
opt-in `age_shift` changes the question and is reported apart, never pooled into
`consistency`), `lexicon` (path; default suites/data/medical_lexicon.yaml),
`age_shift_years` (the largest shift of `age_shift`, default 4; given without `age_shift`
among the variants it would be read by nothing, and is bad input), `loader` via the
spec's `loader` key (default medqa).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, ClassVar

from pydantic import PositiveInt

from harness.core.backends import ModelHandle
from harness.core.errors import BadInputError
from harness.core.records import Record
from suites.base import MCItem, RunContext, SuiteResult, SuiteSpec
from suites.benchmark import finish
from suites.items import select_items
from suites.perturb.synonyms import load_lexicon
from suites.perturb.variants import DEFAULT_VARIANTS, KNOWN_VARIANTS, Perturber, Variant
from suites.scoring import score_mc

MAX_REASONS_PER_VARIANT = 5
AGE_SHIFT_YEARS = 4


class RobustSuite:
    """Clean items plus each perturbation, kept only where the guard passes."""

    OPTIONS: ClassVar[dict[str, Any]] = {"variants": list[str] | str, "lexicon": str | None,
                                         "age_shift_years": PositiveInt}

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec

    def _option(self, ctx: RunContext, key: str, default: Any) -> Any:
        return ctx.options.get(key, self.spec.options.get(key, default))

    def variants(self, ctx: RunContext) -> list[str]:
        wanted = self._option(ctx, "variants", list(DEFAULT_VARIANTS))
        if isinstance(wanted, str):
            wanted = [v.strip() for v in wanted.split(",") if v.strip()]
        unknown = [v for v in wanted if v not in KNOWN_VARIANTS]
        if unknown:
            raise BadInputError(f"suite '{self.spec.name}': options.variants has unknown "
                                f"perturbation(s) {unknown} (known: {list(KNOWN_VARIANTS)})")
        if self._option(ctx, "age_shift_years", None) is not None and "age_shift" not in wanted:
            raise BadInputError(f"suite '{self.spec.name}': options.age_shift_years is given "
                                "but 'age_shift' is not among options.variants, so nothing "
                                "would read it: add 'age_shift' to the variants (it changes "
                                "the question and is reported apart) or remove the key")
        return list(wanted)

    def perturber(self, ctx: RunContext, variants: list[str]) -> Perturber:
        lexicon = None
        if "synonym" in variants:
            path = self._option(ctx, "lexicon", None)
            lexicon = load_lexicon(Path(path) if path else None)
        age = self._option(ctx, "age_shift_years", AGE_SHIFT_YEARS)
        if not isinstance(age, int) or isinstance(age, bool) or age < 1:
            raise BadInputError(f"suite '{self.spec.name}': options.age_shift_years must be a "
                                f"positive integer, got {age!r}")
        return Perturber(ctx.seed, lexicon, age_shift_years=age)

    def build(self, items: list[MCItem], ctx: RunContext, variants: list[str]
              ) -> tuple[dict[str, list[MCItem]], dict[str, Any]]:
        """Kept items per variant, and the counts of what was not kept and why."""
        perturber = self.perturber(ctx, variants)
        kept: dict[str, list[MCItem]] = defaultdict(list)
        status: dict[str, Counter] = {v: Counter() for v in variants}
        reasons: dict[str, list[str]] = defaultdict(list)
        for item in items:
            for name in variants:
                result: Variant = perturber.perturb(item, name)
                status[name][result.status] += 1
                if result.status == "kept" and result.item is not None:
                    kept[name].append(result.item)
                elif result.status == "dropped" and \
                        len(reasons[name]) < MAX_REASONS_PER_VARIANT:
                    reasons[name].append(f"{item.item_id}: {'; '.join(result.reasons)}")
        info: dict[str, Any] = {
            "guard_dropped": {v: status[v]["dropped"] for v in variants},
            "not_applicable": {v: status[v]["not_applicable"] for v in variants},
            "unchanged": {v: status[v]["unchanged"] for v in variants},
            "kept": {v: status[v]["kept"] for v in variants},
            "guard_examples": dict(reasons),
        }
        if perturber.lexicon is not None:
            info["lexicon"] = {"path": str(perturber.lexicon.path),
                               "groups_in_file": perturber.lexicon.groups_in_file,
                               "groups_used": len(perturber.lexicon.groups),
                               "terms_set_aside": len(perturber.lexicon.terms_set_aside)}
        return kept, info

    def run(self, model: ModelHandle, ctx: RunContext) -> SuiteResult:
        variants = self.variants(ctx)
        items = select_items(self.spec, ctx)
        if not items:
            raise BadInputError(f"suite '{self.spec.name}' has no items",
                                where=str(ctx.data_path))
        kept, info = self.build(items, ctx, variants)
        fmt = self.spec.prompt_format or "medqa"
        records: list[Record] = score_mc(model, items, fmt, suite=self.spec.name,
                                         variant="clean", ctx=ctx)
        for name in variants:
            if kept.get(name):
                records += score_mc(model, kept[name], fmt, suite=self.spec.name, variant=name,
                                    ctx=ctx)
        info.update({"items": len(items), "variants": variants, "seed": ctx.seed,
                     "demo": ctx.is_demo_data, "data": str(ctx.data_path),
                     "optional_augmenters": optional_augmenters()})
        return finish(self.spec, records, ctx, info, variants=variants)


def optional_augmenters() -> dict[str, str]:
    """Augmenters that need downloaded resources: none is used by this suite, and this
    says whether each could be (so a reader knows what was not tested and why)."""
    status = {}
    try:
        import nltk

        nltk.data.find("corpora/wordnet")
        status["wordnet_synonym"] = "resource present, not enabled (lexicon swap is used)"
    except (ImportError, LookupError):
        status["wordnet_synonym"] = "absent: needs the NLTK WordNet corpus"
    status["back_translation"] = "absent: needs translation model weights"
    status["contextual_embeddings"] = "absent: needs a masked language model's weights"
    return status
