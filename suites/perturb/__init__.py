"""Perturbation suites: seeded augmenters, the meaning guard and robustness metrics.

Public surface:
- `Perturber(seed, lexicon).perturb(item, variant) -> Variant` and `ALL_VARIANTS`
- `guard.check_item(clean, perturbed, option_map, allow_age=False) -> Verdict`,
  `guard.extract(text) -> Facts`
- `metrics.robustness_metrics(clean_records, {variant: records}, seed=...)`
- `suite.RobustSuite` (the `medqa-robust` suite)
"""

from suites.perturb.guard import Facts, Verdict, check_item, extract
from suites.perturb.variants import ALL_VARIANTS, Perturber, Variant

__all__ = ["ALL_VARIANTS", "Facts", "Perturber", "Variant", "Verdict", "check_item", "extract"]
