"""Experiment tracking in MLflow: a finished run as MLflow sees runs.

Logged from the run directory's records after the pipeline ends, so what MLflow holds is
what the reports show: the resolved config (secrets removed) as parameters, the training
history as step metrics, every gate check of the deciding verdict (and of every candidate
on the selection items) with its value and outcome, the verdict as a tag, and the reports
and gate.json as artifacts. A promoted model is registered in MLflow's model registry
(`tracking.register_model`) with the gate's verdict as version tags. Tracking is on with
`tracking.enabled` or a `tracking.mlflow_uri`; enabled with no URI, runs go to a local
`mlruns/` folder (a SQLite store and an artifacts folder).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gates import read_gate
from harness.core.config import MedgateConfig
from harness.core.console import err
from harness.core.rundir import RunDir

MAX_PARAM_CHARS = 500  # MLflow's limit on a parameter value in its default stores


def local_store() -> Path:
    return (Path.cwd() / "mlruns").resolve()


def tracking_uri(config: MedgateConfig) -> str:
    """The configured URI, else a SQLite store in ./mlruns (MLflow 3 refuses its plain
    file store unless told to, and keeps it only in maintenance)."""
    if config.tracking.mlflow_uri:
        return config.tracking.mlflow_uri
    local_store().mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{local_store() / 'mlflow.db'}"


def _experiment(config: MedgateConfig) -> None:
    """Select the experiment, made with its artifacts in ./mlruns/artifacts when the store
    is the local one (a database store has no folder of its own for them)."""
    import mlflow

    name = config.tracking.experiment
    if not config.tracking.mlflow_uri and mlflow.get_experiment_by_name(name) is None:
        mlflow.create_experiment(name, artifact_location=(local_store() / "artifacts").as_uri())
    mlflow.set_experiment(name)


def _flat(data: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(data, dict):
        out: dict[str, str] = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    text = json.dumps(data) if not isinstance(data, str) else data
    return {prefix[:-1]: text[:MAX_PARAM_CHARS]}


def _metric_name(*parts: str) -> str:
    """MLflow names allow letters, digits, _ - . / and spaces."""
    return ".".join("".join(c if c.isalnum() or c in "_-/ " else "_" for c in p) for p in parts)


def _history(run: RunDir) -> list[dict[str, Any]]:
    if not run.history.exists():
        return []
    return json.loads(run.history.read_text(encoding="utf-8"))


def log_run(config: MedgateConfig, run: RunDir) -> str | None:
    """Log the finished run to MLflow; returns the MLflow run id (None when tracking is
    off). The registered model version, when one is made, is tagged with the verdict."""
    if not config.tracking.active:
        return None
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri(config))
    _experiment(config)
    gate = read_gate(run.gate)
    with mlflow.start_run(run_name=run.root.name) as active:
        mlflow.log_params(_flat(config.to_public_dict()))
        for entry in _history(run):
            step = int(entry.get("step", 0))
            mlflow.log_metrics({_metric_name("train", k): float(v) for k, v in entry.items()
                                if k != "step" and isinstance(v, (int, float))
                                and not isinstance(v, bool)}, step=step)
        tags = {"medgate.verdict": gate.verdict, "medgate.selected": gate.selected or "",
                "medgate.policy": gate.policy.name, "medgate.policy_sha256": gate.policy.sha256,
                "medgate.run_dir": str(run.root.resolve()),
                "medgate.training_method": config.training.method}
        deciding = gate.deciding
        if deciding is not None:
            for check in deciding.checks:
                if check.value is not None:
                    mlflow.log_metric(_metric_name("gate", check.name), float(check.value))
                tags[f"gate.{check.name}.outcome"] = check.outcome
        for tag, verdict in gate.checkpoints.items():
            step = int(tag.split("-")[-1]) if tag.split("-")[-1].isdigit() else 0
            for check in verdict.checks:
                if check.value is not None:
                    mlflow.log_metric(_metric_name("selection", check.name), float(check.value),
                                      step=step)
        mlflow.set_tags(tags)
        mlflow.log_artifact(str(run.gate))
        if run.report_dir.is_dir():
            mlflow.log_artifacts(str(run.report_dir), artifact_path="report")
        run_id = active.info.run_id
        if gate.verdict == "PROMOTE" and config.tracking.register_model:
            _register(MlflowClient(), config.tracking.register_model, run, run_id, tags)
    err.print(f"MLflow: run {run_id} in experiment '{config.tracking.experiment}' at "
              f"{tracking_uri(config)}", highlight=False)
    return run_id


def _register(client: Any, name: str, run: RunDir, run_id: str, tags: dict[str, str]) -> None:
    """The promoted weights as an artifact of the run and a version of the registered
    model, tagged with the gate's verdict."""
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.log_artifacts(str(run.promoted_dir), artifact_path="promoted")
    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if "RESOURCE_ALREADY_EXISTS" not in str(exc.error_code):
            raise
    source = f"{mlflow.get_artifact_uri('promoted')}"
    version = client.create_model_version(name, source=source, run_id=run_id,
                                          tags={k: v for k, v in tags.items()
                                                if k.startswith(("medgate.", "gate."))})
    err.print(f"MLflow: registered {name} version {version.version}", highlight=False)
