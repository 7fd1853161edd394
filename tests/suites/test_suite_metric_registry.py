"""The metric registry: a spec's `metrics:` list is what is computed, and only registered
names load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import suites.registry as suite_registry
from harness.app.cli import main
from harness.core.errors import BadInputError, InternalError
from harness.core.records import Record
from harness.core.summaries import MetricEntry, metric
from suites.metrics import compute_metrics, known_metrics, register
from suites.metrics.registry import _METRICS

POLICIES = Path(__file__).resolve().parents[2] / "gates" / "policies"


@pytest.fixture
def specs_dir(tmp_path, monkeypatch):
    """A copy of the bundled specs the registry reads instead of suites/specs."""
    folder = tmp_path / "specs"
    shutil.copytree(suite_registry.SPECS_DIR, folder)
    monkeypatch.setattr(suite_registry, "SPECS_DIR", folder)
    suite_registry._cache.clear()
    yield folder
    suite_registry._cache.clear()


def _recs(correct: list[bool], subjects: list[str]) -> list[Record]:
    return [Record(suite="s", item_id=str(i), prompt="p", correct=c, meta={"subject": s})
            for i, (c, s) in enumerate(zip(correct, subjects, strict=True))]


def test_a_spec_computes_exactly_its_metrics_and_families_write_prefixed_keys():
    records = _recs([True, False, True, True], ["anatomy", "anatomy", "virology", "virology"])
    out = compute_metrics(["accuracy", "accuracy.<subject>"], records)
    assert list(out) == ["accuracy", "accuracy.anatomy", "accuracy.virology"]
    assert all(isinstance(v, MetricEntry) for v in out.values())
    assert out["accuracy"].value == 0.75 and out["accuracy.anatomy"].n == 2
    assert list(compute_metrics(["accuracy"], records)) == ["accuracy"]


def test_adding_a_metric_is_one_registered_function():
    @register("test_share_anatomy")
    def share(data):
        """Share of records about anatomy."""
        hits = [r.meta.get("subject") == "anatomy" for r in data.records]
        return metric(sum(hits) / len(hits), None, len(hits))

    try:
        assert "test_share_anatomy" in known_metrics()
        out = compute_metrics(["test_share_anatomy"], _recs([True, True], ["anatomy", "x"]))
        assert out["test_share_anatomy"].value == 0.5
    finally:
        _METRICS.pop("test_share_anatomy")


def test_a_metric_returning_no_entry_is_an_internal_error():
    @register("test_broken")
    def broken(data):
        return 0.5

    try:
        with pytest.raises(InternalError, match="test_broken"):
            compute_metrics(["test_broken"], [])
    finally:
        _METRICS.pop("test_broken")


def test_every_gated_metric_is_written_by_its_suite():
    """Each policy check names a metric its suite's spec produces (a plain name, or a
    family whose prefix the key starts with)."""
    specs = {s.name: s for s in suite_registry.list_specs()}
    for path in POLICIES.glob("*.yaml"):
        for check in yaml.safe_load(path.read_text())["checks"]:
            names = specs[check["suite"]].metrics
            prefixes = [n.rsplit(".<", 1)[0] + "." for n in names if n.endswith(">")]
            assert check["metric"] in names or any(
                check["metric"].startswith(p) for p in prefixes), (path.name, check["name"])


def test_unregistered_metric_in_a_spec_is_bad_input_naming_file_and_metric(specs_dir, capsys):
    spec = specs_dir / "medqa.yaml"
    spec.write_text(spec.read_text().replace("metrics: [accuracy, ece, brier, answer_spread]",
                                             "metrics: [accuracy, exactness]"))
    with pytest.raises(BadInputError) as info:
        suite_registry.list_specs()
    assert str(spec) in str(info.value) and "'exactness'" in str(info.value)
    assert "known: accuracy" in str(info.value)
    suite_registry._cache.clear()
    assert main(["suites"]) == 2
    err = capsys.readouterr().err
    assert "medqa.yaml" in err and "exactness" in err
    suite_registry._cache.clear()
    assert main(["eval", "--model", "smollm2-135m", "--suites", "medqa"]) == 2
    assert "exactness" in capsys.readouterr().err


def test_a_metric_listed_twice_is_bad_input(specs_dir):
    spec = specs_dir / "medqa.yaml"
    spec.write_text(spec.read_text().replace("metrics: [accuracy, ece, brier, answer_spread]",
                                             "metrics: [accuracy, accuracy]"))
    with pytest.raises(BadInputError, match="more than once"):
        suite_registry.list_specs()
