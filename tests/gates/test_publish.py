"""`medgate publish` against a local server speaking the Hub's upload API (tests/gates/
hub_server.py, driven by huggingface_hub's own create_repo/upload_folder) and a real
MLflow store (SQLite): exactly the release's files arrive in one commit, the model version
is registered, and the token is nowhere on disk or in the logs. Unreachable destinations
fail in words and leave nothing written."""

from __future__ import annotations

import io
import json
import logging
import secrets
import socket
import string
import tempfile
import zipfile
from pathlib import Path

import pytest
from hub_server import LocalHub
from huggingface_hub import constants as hf_constants
from release_runs import promoted_run, release

from harness.app.cli import main
from reports.export import verify_bundle

TOKEN = "hf_" + "".join(secrets.choice(string.ascii_letters) for _ in range(34))
MERGED = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]
EVIDENCE = ["README.md", "evidence/bundle.zip", "evidence/release.json"]


@pytest.fixture
def released(make_run, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    # the suite runs with the Hub offline (tests/conftest.py); publishing is the exception
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    registry = tmp_path / "registry"
    run = promoted_run(make_run, "r1")
    assert release(run, "1.0.0", registry) == 0
    return run, registry


def _publish(registry: Path, *extra: str) -> int:
    return main(["publish", "--version", "1.0.0", "--repo-id", "org/med-model",
                 "--registry", str(registry), *extra])


def _token_nowhere(root: Path, *texts: str) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    for text in texts:
        assert TOKEN not in text


def _staging_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("medgate-publish-*")}


def test_publish_pushes_exactly_the_release_and_registers_it(released, tmp_path, capsys,
                                                            caplog, monkeypatch):
    from mlflow import MlflowClient

    run, registry = released
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root is relative
    caplog.set_level(logging.DEBUG)
    mlflow_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with LocalHub() as hub:
        assert _publish(registry, "--endpoint", hub.url, "--mlflow-uri", mlflow_uri) == 0
    files = hub.state.repos["org/med-model"]
    assert sorted(files) == sorted(MERGED + EVIDENCE)
    assert len(hub.state.commits) == 1  # one commit: the whole release or nothing
    for name in MERGED:
        assert files[name] == (run.promoted_dir / "merged" / name).read_bytes()
    readme = files["README.md"].decode()
    assert readme.startswith("---") and "model-index" in readme
    assert hub.state.validated and "model-index" in hub.state.validated[0]
    assert "Releases / lineage" in readme and "1.0.0" in readme
    record = json.loads(files["evidence/release.json"])
    assert record["version"] == "1.0.0"
    bundle = tmp_path / "pushed.zip"
    bundle.write_bytes(files["evidence/bundle.zip"])
    assert verify_bundle(bundle).ok
    with zipfile.ZipFile(io.BytesIO(files["evidence/bundle.zip"])) as zf:
        assert "release.json" in zf.namelist()
    assert set(hub.state.auth) == {f"Bearer {TOKEN}"} and hub.state.unknown == []

    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    [version] = client.search_model_versions("name='med-model'")
    assert version.tags["medgate.release"] == "1.0.0"
    assert version.tags["medgate.gate_sha256"] == record["gate_sha256"]
    logged = {a.path for a in client.list_artifacts(version.run_id, "release")}
    assert logged == {"release/README.md", "release/evidence", *(f"release/{n}" for n in MERGED)}
    with LocalHub() as mirror:  # published again: the registered model gets version 2
        assert _publish(registry, "--endpoint", mirror.url, "--mlflow-uri", mlflow_uri,
                        "--mlflow-model", "med-model") == 0
    assert len(client.search_model_versions("name='med-model'")) == 2
    pubs = json.loads((registry / "publications" / "1.0.0.json").read_text())
    assert pubs[0]["commit_oid"] == hub.state.commits[0]["oid"]
    assert [p["mlflow"]["model_version"] for p in pubs] == ["1", "2"]
    captured = capsys.readouterr()
    _token_nowhere(tmp_path, captured.out, captured.err, caplog.text)


def test_adapter_instead_of_merged_weights(released, capsys):
    run, registry = released
    with LocalHub() as hub:
        assert _publish(registry, "--endpoint", hub.url, "--weights", "adapter") == 0
    adapter = sorted(p.name for p in (run.promoted_dir / "adapter").iterdir())
    assert sorted(hub.state.repos["org/med-model"]) == sorted(adapter + EVIDENCE)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_publish_fails_clearly_and_writes_nothing(released, tmp_path, capsys,
                                                          monkeypatch):
    _, registry = released
    before = _staging_dirs()
    assert _publish(registry, "--endpoint", f"http://127.0.0.1:{_closed_port()}") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "cannot reach the Hub" in err and "nothing was published" in err
    assert not (registry / "publications").exists()
    assert _staging_dirs() == before
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    with LocalHub() as hub:
        assert _publish(registry, "--endpoint", hub.url) == 2
    assert "HF_HUB_OFFLINE" in capsys.readouterr().err and hub.state.commits == []
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    with LocalHub() as hub:  # an unreachable MLflow stops it before the Hub is touched
        assert _publish(registry, "--endpoint", hub.url, "--mlflow-uri",
                        f"http://127.0.0.1:{_closed_port()}") == 2
    assert "cannot reach the MLflow" in " ".join(capsys.readouterr().err.split())
    assert hub.state.repos == {} and hub.state.commits == []
    assert not (registry / "publications").exists()
    _token_nowhere(tmp_path)


def test_refuses_without_token_or_with_changed_weights(released, capsys, monkeypatch):
    run, registry = released
    monkeypatch.delenv("HF_TOKEN")
    with LocalHub() as hub:
        assert _publish(registry, "--endpoint", hub.url) == 2
        assert "HF_TOKEN" in capsys.readouterr().err and hub.state.auth == []
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        (run.promoted_dir / "merged" / "model.safetensors").write_bytes(b"other weights")
        assert _publish(registry, "--endpoint", hub.url) == 2
        assert "model.safetensors" in capsys.readouterr().err
    assert hub.state.commits == []
