"""With tracking on, a train-and-gate run is in MLflow: a real `mlflow server` started here,
read back with MLflow's own client (parameters, gate metrics, verdict, registered model)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from mlflow import MlflowClient

from .conftest import environment, tiny_sets

# Whole studies and runs as subprocesses: minutes on two cores.
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path):
    port = _free_port()
    log = (tmp_path / "mlflow-server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
         "--artifacts-destination", str(tmp_path / "artifacts"), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None:
            pytest.fail("mlflow server exited: "
                        + (tmp_path / "mlflow-server.log").read_text(errors="replace")[-2000:])
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("mlflow server did not answer within 180 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_run_logged_and_promoted_model_registered(tmp_path, tiny_model_dir, study_files,
                                                  mlflow_server):
    policy, _ = study_files
    run_dir = tmp_path / "run"
    argv = [sys.executable, "-m", "harness.app.cli", "train-and-gate", "--run-dir", str(run_dir),
            *tiny_sets(tiny_model_dir, policy), "--set", "tracking.enabled=true",
            "--set", f"tracking.mlflow_uri={mlflow_server}",
            "--set", "tracking.experiment=medgate-test",
            "--set", "tracking.register_model=medgate-tiny"]
    done = subprocess.run(argv, check=False, env=environment(tmp_path / "cache"),
                          capture_output=True,
                          text=True, timeout=900)
    gate = json.loads((run_dir / "gate.json").read_text(encoding="utf-8"))
    assert done.returncode == (0 if gate["verdict"] == "PROMOTE" else 1), done.stderr[-3000:]
    assert gate["verdict"] == "PROMOTE", gate["reasons"]  # the test policy passes this model

    client = MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name("medgate-test")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.data.params["training.max_steps"] == "2"
    assert run.data.params["model.name"] == str(tiny_model_dir)
    assert run.data.tags["medgate.verdict"] == "PROMOTE"
    assert run.data.tags["medgate.selected"] == gate["selected"]
    deciding = gate["confirmation"] or gate["checkpoints"][gate["selected"]]
    forgetting = next(c for c in deciding["checks"] if c["name"] == "forgetting")
    assert run.data.metrics["gate.forgetting"] == pytest.approx(forgetting["value"])
    assert run.data.tags["gate.forgetting.outcome"] == forgetting["outcome"]
    assert "train.loss" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"gate.json", "report", "promoted"} <= artifacts

    versions = client.search_model_versions("name='medgate-tiny'")
    assert len(versions) == 1
    assert versions[0].run_id == run.info.run_id
    assert versions[0].tags["medgate.verdict"] == "PROMOTE"
    assert versions[0].tags["gate.forgetting.outcome"] == forgetting["outcome"]
