"""The metric registry: a suite's YAML `metrics:` list names registered functions.

Like Inspect's `@metric` and lm-eval's metric registry: a metric is one function,
registered by name, that reads a suite's records and returns a
`harness.core.summaries.MetricEntry`:

    @register("accuracy")
    def accuracy(data: MetricInput) -> MetricEntry: ...

A *family* is named `prefix.<dimension>` and returns {suffix: entry}; its summary keys
are `prefix.suffix` (`accuracy.<subject>` writes `accuracy.anatomy`, ...). A spec lists
families by that name: `metrics: [accuracy, accuracy.<subject>]`. What a spec lists is
exactly what is computed, and a name nobody registered is an error when the spec is
loaded. Every module that registers metrics is imported by `suites.metrics`.

A metric that cannot be computed on these records (an LLM-judge metric of a run that
used the rule judge only) returns `NotMeasured(reason)`: it is left out of the summary,
not written as a zero, and `compute_metrics` keeps the reason in its result's `absent`
(the suite's info carries it as `metrics_absent`, so a gate asking for it says why).

A rate whose events are per-record flags also registers its *events*
(`@register_events("harmful_rate")`: the records in its denominator, each with its
flag), so a paired comparison with a base model can pair those flags item by item.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.core.errors import BadInputError, InternalError
from harness.core.records import Record
from harness.core.summaries import MetricEntry, metric

_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.<[a-z_]+>)?")


@dataclass(frozen=True)
class MetricInput:
    """What a metric reads: the suite's records, its effective options (the spec's
    options, the run's overrides and what the suite resolved from them, e.g. `variants`)
    , the run's seed for resampling and the confidence of the intervals (a gate judging
    K candidates without a held-out split recomputes them at a corrected level)."""

    records: Sequence[Record]
    options: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    confidence: float = 0.95


MetricFn = Callable[[MetricInput], Any]
# The records a rate counts over, each with whether its event happened.
Events = list[tuple[Record, bool]]
EventsFn = Callable[[MetricInput], Events]


@dataclass(frozen=True)
class NotMeasured:
    """What a metric returns when its records cannot give it, and why (e.g. "no LLM judge
    ran"): it is absent from the summary, with this reason, rather than a made-up number."""

    reason: str


class Metrics(dict[str, MetricEntry]):
    """compute_metrics' result: the entries, and `absent` ({metric: reason}) for the listed
    metrics these records could not give."""

    def __init__(self) -> None:
        super().__init__()
        self.absent: dict[str, str] = {}


@dataclass(frozen=True)
class RegisteredMetric:
    name: str
    fn: MetricFn
    description: str

    @property
    def family(self) -> bool:
        return self.name.endswith(">")

    @property
    def prefix(self) -> str:
        return self.name.rsplit(".<", 1)[0] if self.family else self.name


_METRICS: dict[str, RegisteredMetric] = {}
_EVENTS: dict[str, EventsFn] = {}


def register(name: str) -> Callable[[MetricFn], MetricFn]:
    """Register the decorated function as metric `name` (a family if `name` ends in
    `.<dimension>`)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"metric name {name!r} is not lower_snake.dotted[.<dimension>]")

    def decorate(fn: MetricFn) -> MetricFn:
        if name in _METRICS and _METRICS[name].fn is not fn:
            raise ValueError(f"metric '{name}' is registered twice")
        doc = (fn.__doc__ or "").strip()
        _METRICS[name] = RegisteredMetric(name, fn, doc.splitlines()[0] if doc else "")
        return fn

    return decorate


def register_events(name: str) -> Callable[[EventsFn], EventsFn]:
    """Register the decorated function as the per-record events of rate metric `name`:
    (record, event) for every record in the rate's denominator."""

    def decorate(fn: EventsFn) -> EventsFn:
        if name in _EVENTS and _EVENTS[name] is not fn:
            raise ValueError(f"events of metric '{name}' are registered twice")
        _EVENTS[name] = fn
        return fn

    return decorate


def event_metrics() -> list[str]:
    """The rate metrics whose per-record events are registered (pairable with a base)."""
    return sorted(_EVENTS)


def record_events(name: str, records: Sequence[Record], *,
                  options: Mapping[str, Any] | None = None) -> Events:
    """The per-record events of rate metric `name` on `records` (with the suite's
    metric options); the rate is the share of True among them."""
    if name not in _EVENTS:
        raise BadInputError(f"metric '{name}' has no per-record events (those that do: "
                            f"{', '.join(event_metrics())})")
    return _EVENTS[name](MetricInput(records=records, options=dict(options or {})))


def known_metrics() -> list[str]:
    return sorted(_METRICS)


def get_metric(name: str) -> RegisteredMetric:
    if name not in _METRICS:
        raise BadInputError(f"unknown metric '{name}' (known: {', '.join(known_metrics())})")
    return _METRICS[name]


def check_metric_names(names: Sequence[str], where: str) -> None:
    """Every name is registered, once; else bad input naming `where` and the known names."""
    unknown = [n for n in names if n not in _METRICS]
    if unknown:
        listed = ", ".join(f"'{n}'" for n in unknown)
        raise BadInputError(f"key 'metrics': unknown metric {listed} "
                            f"(known: {', '.join(known_metrics())})", where=where)
    repeated = sorted({n for n in names if list(names).count(n) > 1})
    if repeated:
        raise BadInputError(f"key 'metrics' lists {repeated} more than once", where=where)


def as_entry(value: Any, name: str) -> MetricEntry:
    """A metric function's result as a MetricEntry (a plain entry dict is accepted)."""
    if isinstance(value, MetricEntry):
        return value
    if isinstance(value, Mapping) and "value" in value:
        extra = {k: v for k, v in value.items() if k not in ("value", "ci", "n")}
        return metric(value["value"], value.get("ci"), value.get("n"), **extra)
    raise InternalError(f"metric '{name}' returned {type(value).__name__}, not a metric entry")


def compute_metrics(names: Sequence[str], records: Sequence[Record], *,
                    options: Mapping[str, Any] | None = None,
                    seed: int = 0, confidence: float = 0.95) -> Metrics:
    """The summary entries of `names`, in their order (a family's in its own order);
    the metrics that returned NotMeasured are in the result's `absent` with their reason."""
    data = MetricInput(records=records, options=dict(options or {}), seed=seed,
                       confidence=confidence)
    out = Metrics()
    for name in names:
        registered = get_metric(name)
        value = registered.fn(data)
        if isinstance(value, NotMeasured):
            out.absent[name] = value.reason
            continue
        if registered.family:
            if not isinstance(value, Mapping):
                raise InternalError(f"metric family '{name}' returned "
                                    f"{type(value).__name__}, not {{suffix: entry}}")
            produced = {f"{registered.prefix}.{suffix}": as_entry(entry, name)
                        for suffix, entry in value.items()}
        else:
            produced = {name: as_entry(value, name)}
        clash = sorted(set(produced) & set(out))
        if clash:
            raise InternalError(f"metric '{name}' writes {clash}, already written")
        out.update(produced)
    return out


def producer(summary_key: str, metric_names: Sequence[str]) -> str | None:
    """The listed metric that writes `summary_key`: the metric of that name, else the
    family whose prefix the key extends (`accuracy.anatomy` from `accuracy.<subject>`)."""
    if summary_key in metric_names and summary_key in _METRICS \
            and not _METRICS[summary_key].family:
        return summary_key
    for name in metric_names:
        registered = get_metric(name)
        if registered.family and summary_key.startswith(registered.prefix + "."):
            return name
    return None


def recompute_metric(summary_key: str, metric_names: Sequence[str],
                     records: Sequence[Record], *, options: Mapping[str, Any] | None = None,
                     seed: int = 0, confidence: float = 0.95) -> MetricEntry | None:
    """The entry a suite listing `metric_names` would write under `summary_key`, computed
    on `records` (e.g. a gate's confirmation items) at `confidence`.

    Pass the suite info's `metrics`, `metric_options` and `metric_seed`: on the suite's
    own records at 0.95 this is the summary's entry. None when no listed metric writes
    the key, or when the family that does has nothing under it in these records (a
    subject with no item among them).
    """
    name = producer(summary_key, metric_names)
    if name is None:
        return None
    return compute_metrics([name], records, options=options, seed=seed,
                           confidence=confidence).get(summary_key)
