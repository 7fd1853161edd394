"""What a gate reads about one evaluated model: its summary and its per-item records.

Every way the evidence can be missing or broken (no summary, a malformed file, a suite
that crashed, a records file that is absent) becomes an `EvidenceError` whose message
is the reason a check fails. A gate never turns a missing measurement into a pass.

A gate may judge a part of the items (the selection or the confirmation part of the
split) or judge at a corrected confidence; the metrics are then recomputed from the
records of those items by the suite's own registered metric functions, with the options
the suite recorded, so the number judged is the number the suite would have reported on
those items.

Records that medical experts reviewed carry the experts' labels in place of the judge's
(gates.review): a suite with adjudicated records is recomputed from them, after its
unreviewed records were checked against its summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gates.result import ItemPart
from gates.review import Adjudication, Key, adjudicated_suites, apply_adjudications
from gates.split import in_part
from harness.core.errors import BadInputError
from harness.core.records import Record, read_records, records_path
from harness.core.summaries import (
    MetricEntry,
    SuiteSummary,
    finite,
    read_summaries,
    summary_path,
)
from suites.metrics.registry import recompute_metric
from suites.registry import find_spec

SUMMARY_CONFIDENCE = 0.95  # the confidence suites compute their summary intervals at


class EvidenceError(Exception):
    """Why a check could not be judged; the check fails with this message as its reason."""


@dataclass
class _Loaded:
    """What has been read of one evals/<tag>/ folder, shared by every view of its items:
    the summary (or why it cannot be read), every suite's records (or why not), and the
    metrics already checked against their records."""

    summary: dict[str, SuiteSummary] | None = None
    summary_error: str | None = None
    records: dict[str, list[Record] | str] = field(default_factory=dict)
    verified: set[tuple[str, str]] = field(default_factory=set)


class ModelEvidence:
    """The evals/<tag>/ folder of one model, read lazily and once."""

    def __init__(self, eval_dir: str | Path, label: str, device_hint: str | None = None, *,
                 part: ItemPart = "all", confirm_fraction: float = 0.0,
                 adjudications: Mapping[Key, Adjudication] | None = None,
                 _loaded: _Loaded | None = None) -> None:
        self.eval_dir = Path(eval_dir)
        self.label = label
        # The experts' labels of this model's reviewed records (keys name the model tag).
        self.adjudications: Mapping[Key, Adjudication] = adjudications or {}
        self.device_hint = device_hint
        self.part: ItemPart = part if confirm_fraction > 0 else "all"
        self.confirm_fraction = confirm_fraction
        self._loaded = _loaded or _Loaded()
        self._in_part: dict[str, list[Record]] = {}

    def on(self, part: ItemPart) -> ModelEvidence:
        """The same model's evidence restricted to another part of the items; the files
        read so far are not read again."""
        return ModelEvidence(self.eval_dir, self.label, self.device_hint, part=part,
                             confirm_fraction=self.confirm_fraction,
                             adjudications=self.adjudications, _loaded=self._loaded)

    @property
    def tag(self) -> str:
        return self.eval_dir.name

    def adjudicated(self, suite: str) -> int:
        """How many of the suite's records carry the experts' labels."""
        return adjudicated_suites(self.adjudications, self.tag).get(suite, 0)

    @property
    def exists(self) -> bool:
        return self.eval_dir.is_dir()

    def summary(self) -> dict[str, SuiteSummary]:
        """Every suite's summary; a missing or malformed summary.json is an EvidenceError."""
        loaded = self._loaded
        if loaded.summary is None and loaded.summary_error is None:
            path = summary_path(self.eval_dir)
            if not path.exists():
                loaded.summary_error = f"{self.label}: no summary ({path})"
            else:
                try:
                    loaded.summary = read_summaries(self.eval_dir)
                except BadInputError as exc:
                    loaded.summary_error = f"{self.label}: {exc}"
        if loaded.summary_error is not None:
            raise EvidenceError(loaded.summary_error)
        return loaded.summary  # type: ignore[return-value]

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

    def metric(self, suite: str, name: str, confidence: float = SUMMARY_CONFIDENCE) -> MetricEntry:
        """The metric on this evidence's items at `confidence`: the summary's entry when
        that is what it was computed on, else recomputed from the records."""
        entry = self.suite(suite)
        if name not in entry.metrics:
            absent = entry.info.extra.get("metrics_absent") or {}
            why = absent.get(name) if isinstance(absent, dict) else None
            raise EvidenceError(f"{self.label}: metric '{suite}.{name}' "
                                + (f"not measured: {why}" if why else "missing"))
        reported = entry.metrics[name]
        why = reported.extra.get("not_measured")
        if finite(reported.value) is None and why:  # no items for it, with the suite's reason
            raise EvidenceError(f"{self.label}: {suite}.{name} {why}")
        if (self.part == "all" and confidence == SUMMARY_CONFIDENCE
                and not self.adjudicated(suite)) or finite(reported.value) is None:
            return reported  # a NaN or null value fails the check with its own reason
        # The records must be the ones the summary was computed from before a part of
        # them is judged: recomputed on all of them, the metric must give the summary's
        # value (checked once per metric).
        if (suite, name) not in self._loaded.verified:
            whole = self._recompute(suite, name, entry, SUMMARY_CONFIDENCE,
                                    self.judged_records(suite)).value
            if finite(whole) is None or abs(whole - float(reported.value)) > 1e-9:
                raise EvidenceError(f"{self.label}: {suite}.{name} is {reported.value} in "
                                    f"the summary but {whole} from its records: the summary "
                                    "and the records do not belong together")
            self._loaded.verified.add((suite, name))
        return self._recompute(suite, name, entry, confidence, self.records(suite))

    def _recompute(self, suite: str, name: str, summary: SuiteSummary, confidence: float,
                   records: list[Record]) -> MetricEntry:
        info = summary.info
        spec = find_spec(suite)  # for runs whose suites did not record their metrics
        names = info.metrics or (list(spec.metrics) if spec else None)
        options = info.metric_options
        if options is None and spec is not None:
            options = dict(spec.options)
        if not names:
            raise EvidenceError(f"{self.label}: suite '{suite}' is not known here and its "
                                f"summary does not list its metrics, so '{name}' cannot be "
                                f"recomputed on the {self.part} items")
        try:
            entry = recompute_metric(name, names, records, options=options,
                                     seed=info.metric_seed or 0,
                                     confidence=confidence)
        except (KeyError, TypeError, ValueError) as exc:
            raise EvidenceError(f"{self.label}: '{suite}.{name}' cannot be recomputed from "
                                f"its records ({type(exc).__name__}: {exc})") from exc
        if entry is None:
            raise EvidenceError(f"{self.label}: no metric of suite '{suite}' produces "
                                f"'{name}' on the {self.part} items")
        return entry

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
        """The suite's per-item records in this evidence's part of the items.

        Every check needs them, point checks included: a metric whose items are gone (or
        were cut short) cannot be reviewed, signed off or re-judged.
        """
        if suite not in self._in_part:
            chosen = in_part(self.all_records(suite), self.part, self.confirm_fraction)
            if not chosen:
                raise EvidenceError(f"{self.label}: suite '{suite}' has no items in the "
                                    f"{self.part} part of the split")
            self._in_part[suite] = chosen
        return self._in_part[suite]

    def all_records(self, suite: str) -> list[Record]:
        """Every record of the suite, whatever part this evidence judges, with the experts'
        labels where they reviewed."""
        records = self.judged_records(suite)
        if not self.adjudicated(suite):
            return records
        return apply_adjudications(records, self.tag, self.adjudications)

    def judged_records(self, suite: str) -> list[Record]:
        """Every record of the suite as the suite judged it; they must be the ones its
        summary was computed on."""
        loaded = self._loaded.records
        if suite not in loaded:
            path = records_path(self.eval_dir, suite)
            if not path.exists():
                loaded[suite] = f"{self.label}: no records for suite '{suite}' ({path})"
            else:
                try:
                    loaded[suite] = self._checked_count(suite, path, read_records(path))
                except BadInputError as exc:
                    loaded[suite] = f"{self.label}: {exc}"
        got = loaded[suite]
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
