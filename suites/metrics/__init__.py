"""Suite metrics, each registered by name (suites.metrics.registry) for the YAML `metrics:`.

Every function returns a `harness.core.summaries.MetricEntry` (value, ci, n, ...), the one
shape gates and reports read. Importing this package registers every metric: a module
that registers metrics is listed here.
"""

from suites.metrics import agreement, clinical, harm_score, robustness, safety, timing
from suites.metrics.classification import (
    accuracy,
    answer_spread,
    brier,
    choice_probs,
    ece,
    macro_f1,
)
from suites.metrics.registry import (
    MetricInput,
    check_metric_names,
    compute_metrics,
    event_metrics,
    known_metrics,
    recompute_metric,
    record_events,
    register,
)
from suites.metrics.text import bleu4, perplexity, rouge_l

__all__ = ["MetricInput", "accuracy", "agreement", "answer_spread", "bleu4", "brier", "check_metric_names",
           "choice_probs", "clinical", "compute_metrics", "ece", "event_metrics", "harm_score", "known_metrics", "macro_f1", "perplexity",
           "recompute_metric", "record_events", "register", "robustness", "rouge_l", "safety", "timing"]
