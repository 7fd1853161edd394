"""What a gate reads about one evaluated model: its summary and its per-item records.

Every way the evidence can be missing or broken (no summary, a malformed file, a suite
that crashed, a records file that is absent) becomes an `EvidenceError` whose message
is the reason a check fails. A gate never turns a missing measurement into a pass.
"""

from __future__ import annotations

from pathlib import Path

from harness.core.errors import BadInputError
from harness.core.records import Record, read_records, records_path
from harness.core.summaries import MetricEntry, SuiteSummary, read_summaries, summary_path


class EvidenceError(Exception):
    """Why a check could not be judged; the check fails with this message as its reason."""


class ModelEvidence:
    """The evals/<tag>/ folder of one model, read lazily and once."""

    def __init__(self, eval_dir: str | Path, label: str, device_hint: str | None = None) -> None:
        self.eval_dir = Path(eval_dir)
        self.label = label
        self.device_hint = device_hint
        self._summary: dict[str, SuiteSummary] | None = None
        self._summary_error: str | None = None
        self._records: dict[str, list[Record] | str] = {}

    @property
    def exists(self) -> bool:
        return self.eval_dir.is_dir()

    def summary(self) -> dict[str, SuiteSummary]:
        """Every suite's summary; a missing or malformed summary.json is an EvidenceError."""
        if self._summary is None and self._summary_error is None:
            path = summary_path(self.eval_dir)
            if not path.exists():
                self._summary_error = f"{self.label}: no summary ({path})"
            else:
                try:
                    self._summary = read_summaries(self.eval_dir)
                except BadInputError as exc:
                    self._summary_error = f"{self.label}: {exc}"
        if self._summary_error is not None:
            raise EvidenceError(self._summary_error)
        return self._summary  # type: ignore[return-value]

    def suite(self, suite: str) -> SuiteSummary:
        """A suite's summary; missing or crashed suites are errors naming the suite."""
        summary = self.summary()
        if suite not in summary:
            raise EvidenceError(f"{self.label}: suite '{suite}' missing from "
                                f"{summary_path(self.eval_dir)}")
        entry = summary[suite]
        if entry.error:
            raise EvidenceError(f"{self.label}: suite '{suite}' evaluation crashed: "
                                f"{entry.error}")
        return entry

    def metric(self, suite: str, name: str) -> MetricEntry:
        entry = self.suite(suite)
        if name not in entry.metrics:
            raise EvidenceError(f"{self.label}: metric '{suite}.{name}' missing")
        return entry.metrics[name]

    def device(self) -> str | None:
        """The device the suites report in their info, else the run's (device_hint)."""
        try:
            summary = self.summary()
        except EvidenceError:
            return self.device_hint
        devices = [str(s.info.device) for s in summary.values() if s.info.device]
        if any(d.startswith("cuda") for d in devices):
            return "cuda"
        return devices[0] if devices else self.device_hint

    def demo_suites(self) -> list[str]:
        """Suites whose info says they scored bundled demo data."""
        try:
            summary = self.summary()
        except EvidenceError:
            return []
        return [name for name, s in summary.items() if s.info.demo]

    def records(self, suite: str) -> list[Record]:
        """The suite's per-item records, which must be the ones its summary was computed on.

        Every check needs them, point checks included: a metric whose items are gone (or
        were cut short) cannot be reviewed, signed off or re-judged.
        """
        if suite not in self._records:
            path = records_path(self.eval_dir, suite)
            if not path.exists():
                self._records[suite] = f"{self.label}: no records for suite '{suite}' ({path})"
            else:
                try:
                    self._records[suite] = read_records(path)
                except BadInputError as exc:
                    self._records[suite] = f"{self.label}: {exc}"
                else:
                    self._records[suite] = self._checked_count(suite, path,
                                                               self._records[suite])
        got = self._records[suite]
        if isinstance(got, str):
            raise EvidenceError(got)
        return got

    def _checked_count(self, suite: str, path: Path, records: list[Record]) -> list[Record] | str:
        """The records, or why they do not match the summary's `info.n_items`."""
        if not records:
            return f"{self.label}: the records file of suite '{suite}' is empty ({path})"
        try:
            expected = self.suite(suite).info.n_items
        except EvidenceError:
            return records  # the summary's own problem is reported by the check itself
        if expected is not None and expected != len(records):
            return (f"{self.label}: suite '{suite}' has {len(records)} records but its summary "
                    f"was computed on {expected} ({path})")
        return records
