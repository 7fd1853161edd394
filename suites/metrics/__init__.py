"""Suite metrics: accuracy with a Wilson CI, macro-F1, calibration, text overlap.

Every function returns a `harness.core.records.metric` entry (value, ci, n, ...), the one
shape gates and reports read.
"""

from suites.metrics.classification import accuracy, brier, choice_probs, ece, macro_f1
from suites.metrics.text import bleu4, perplexity, rouge_l

__all__ = ["accuracy", "bleu4", "brier", "choice_probs", "ece", "macro_f1", "perplexity", "rouge_l"]
