"""Perturbation suites: seeded augmenters and the meaning guard (the robustness metrics
are registered in suites.metrics.robustness).

Public surface:
- `Perturber(seed, lexicon).perturb(item, variant) -> Variant`; `DEFAULT_VARIANTS` (the
  meaning-preserving ones), `CHANGES_QUESTION` (opt-in: `age_shift`), `KNOWN_VARIANTS`
- `guard.check_item(clean, perturbed, option_map, allow_age=False) -> Verdict`,
  `guard.extract(text) -> Facts`
- `suite.RobustSuite` (the `medqa-robust` suite)
"""

from suites.perturb.guard import Facts, Verdict, check_item, extract
from suites.perturb.variants import (
    CHANGES_QUESTION,
    DEFAULT_VARIANTS,
    KNOWN_VARIANTS,
    Perturber,
    Variant,
)

__all__ = ["CHANGES_QUESTION", "DEFAULT_VARIANTS", "KNOWN_VARIANTS", "Facts", "Perturber",
           "Variant", "Verdict", "check_item", "extract"]
