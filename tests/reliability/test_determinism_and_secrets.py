"""Same config and seed, same records; and no token in anything a run writes or prints."""

from __future__ import annotations

import pytest

from harness.app.cli import main

from . import pipeline_runs as pr
from .conftest import ENV_TOKEN, TOKEN

pytestmark = pytest.mark.slow


def test_same_config_and_seed_give_the_same_records_and_gate(reference_runs):
    """The twin ran the model itself (its own empty cache), yet matches item for item."""
    assert reference_runs.reference_rc == reference_runs.twin_rc == 1
    reference, twin = reference_runs.reference, reference_runs.twin
    ref_records = pr.records_by_tag(reference)
    assert set(ref_records) == {f"{tag}/{suite}.records.jsonl"
                                for tag in ("base", "checkpoint-2", "checkpoint-4")
                                for suite in ("medqa", "general")}
    assert pr.records_by_tag(twin) == ref_records
    assert pr.metrics_by_tag(twin) == pr.metrics_by_tag(reference)
    assert pr.normalised_gate(twin) == pr.normalised_gate(reference)
    assert (reference / "config.resolved.yaml").read_text() == (twin / "config.resolved.yaml").read_text()


def test_no_token_in_any_file_the_run_wrote_or_in_its_output(reference_runs):
    twin = reference_runs.twin
    written = [p for p in [*twin.rglob("*"), *reference_runs.twin_cache.rglob("*")] if p.is_file()]
    assert any(p.name == "adapter_model.safetensors" for p in written)  # the run got that far
    assert len(written) > 30
    for path in [*written, reference_runs.twin_log]:
        data = path.read_bytes()
        for secret in (TOKEN, ENV_TOKEN):
            assert secret.encode() not in data, f"{secret[:8]}... in {path}"


def test_no_token_in_the_error_of_an_unreachable_hub_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", ENV_TOKEN)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    code = main(["eval", "--model", "medgate-test-org/no-such-model", "--suites", "medqa",
                 "--limit", "1", "--run-dir", str(run), "--set", f"model.hf_token={TOKEN}"])
    captured = capsys.readouterr()
    assert code in (2, 3)
    output = captured.out + captured.err
    assert "no-such-model" in output  # the error names what failed ...
    for secret in (TOKEN, ENV_TOKEN):  # ... and nothing secret
        assert secret not in output
        for path in (p for p in tmp_path.rglob("*") if p.is_file()):
            assert secret.encode() not in path.read_bytes(), path
