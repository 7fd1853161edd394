"""Data preflight: the gate on training data before any model loads.

PHI scan (`phi`), train/test overlap (`overlap`), row quality (`quality`) of every input
of training (`sources`: main, replay, validation), combined into a verdict and
data/preflight.json by `run_preflight` (`report`).
"""

from harness.app.preflight.overlap import find_overlap, normalize_words
from harness.app.preflight.phi import PHI_TYPES, Finding, mask, scan_rows, scan_text
from harness.app.preflight.quality import check_quality
from harness.app.preflight.report import (
    PreflightResult,
    load_excluded,
    run_preflight,
    write_preflight,
)
from harness.app.preflight.sources import TrainingSource

__all__ = [
    "PHI_TYPES", "Finding", "PreflightResult", "TrainingSource", "check_quality", "find_overlap",
    "load_excluded", "mask", "normalize_words", "run_preflight", "scan_rows", "scan_text",
    "write_preflight",
]
