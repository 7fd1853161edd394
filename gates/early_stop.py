"""Early stopping on gate evidence: the checks and metrics judged at each checkpoint.

The trainer's own early stopping watches validation loss, which says nothing about
forgetting or safety. This watches what the gate will judge: a failed policy check
(`on_failed`) or a gate metric that stopped improving (`metric`, `patience`), and gives
the reason training should stop, which the run keeps in train/result.json. Both are read on
the selection items only (the caller judges and measures them there), so stopping never
looks at the items that confirm the verdict.
"""

from __future__ import annotations

from gates.result import CheckResult
from harness.core.config import GateEarlyStopConfig
from harness.core.errors import BadInputError
from harness.core.summaries import finite


class GateEarlyStopping:
    """Fed one gated checkpoint at a time; `update` returns why to stop, or None."""

    def __init__(self, config: GateEarlyStopConfig, policy_checks: list[str],
                 suites: list[str]) -> None:
        unknown = [name for name in config.on_failed if name not in policy_checks]
        if unknown:
            raise BadInputError(f"gates.early_stop.on_failed names {unknown}, not checks of the "
                                f"policy (its checks: {', '.join(policy_checks)})")
        self.suite = self.metric = None
        if config.metric is not None:
            suite, _, metric = config.metric.partition(".")
            if not metric:
                raise BadInputError(f"gates.early_stop.metric '{config.metric}' must be "
                                    "SUITE.METRIC, e.g. general.accuracy")
            if suite not in suites:
                raise BadInputError(f"gates.early_stop.metric: suite '{suite}' is not among "
                                    f"evaluation.suites ({', '.join(suites)})")
            self.suite, self.metric = suite, metric
        self.config = config
        self.best: float | None = None
        self.stale = 0

    @property
    def active(self) -> bool:
        return bool(self.config.on_failed) or self.metric is not None

    def update(self, tag: str, checks: list[CheckResult], value: float | None) -> str | None:
        """The reason to stop after checkpoint `tag`: its gate checks, and the value of the
        watched metric (None when it is not watched, missing or NaN)."""
        failed = [c for c in checks if c.name in self.config.on_failed and c.gated
                  and c.passed is not True]
        if failed:
            return "; ".join(f"{tag} failed {c.name} ({c.reason})" for c in failed)
        if self.metric is None:
            return None
        value = finite(value)
        if value is not None and (self.best is None or self._improves(value)):
            self.best, self.stale = value, 0
            return None
        self.stale += 1  # a missing or NaN value is no improvement
        if self.stale >= self.config.patience:
            shown = "missing" if value is None else f"{value:.4g}"
            return (f"{self.suite}.{self.metric} has not improved on {self.best} for "
                    f"{self.stale} checkpoint(s) ({tag}: {shown})")
        return None

    def _improves(self, value: float) -> bool:
        delta = self.config.min_delta
        if self.config.mode == "max":
            return value > self.best + delta
        return value < self.best - delta

