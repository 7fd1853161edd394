"""Publishing a release: one commit to the Hugging Face Hub, then an MLflow model version.

What is published is exactly the release: the promoted weights (merged, or the adapter)
checked file by file against the sha256 the release recorded, the model card the release
was rendered with (README.md, with its model-index), the release record, and the run's
regulatory bundle. A run whose evidence changed since it was released is refused: the
bundle would document something other than what was released.

Everything is staged in a temporary folder first and pushed as a single commit
(`upload_folder`), so the Hub sees the whole release or nothing of it. The token is read
from HF_TOKEN only (never a token file, never the command line, never written anywhere)
and is passed to huggingface_hub explicitly. The MLflow registry is reached before the
Hub is touched, so an unreachable registry stops the publication while nothing has been
written. A hand-written MLflow client: this module owns the few calls it needs (an
experiment, a run with the release's artifacts, a registered model version).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.core.atomic import write_json
from harness.core.errors import BadInputError, MedgateError
from harness.core.io import file_sha256
from harness.core.rundir import RunDir
from harness.core.secrets import redact, register_secret
from reports import build_bundle
from reports.releases import RELEASE_FILE, Registry, Release

TOKEN_ENV = "HF_TOKEN"
MLFLOW_EXPERIMENT = "medgate-releases"
WEIGHTS = ("merged", "adapter")


class PublishError(MedgateError):
    """The destination could not be reached or refused the release (exit 2: the endpoint,
    token or network is the user's to fix); the message says what was left unwritten."""

    exit_code = 2


@dataclass
class Publication:
    version: str
    repo_id: str
    endpoint: str
    weights: str
    files: list[str]
    commit_url: str | None = None
    commit_oid: str | None = None
    mlflow: dict[str, Any] | None = None
    published_at: str = field(
        default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def hub_token() -> str:
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise BadInputError(f"set {TOKEN_ENV} in the environment: the Hub token is read from "
                            "there only, never from a file or an argument")
    register_secret(token)
    return token


def _unchanged_since_release(release: Release, record: dict[str, Any], run: RunDir) -> None:
    """Every evidence file the release copied is still the same in the run."""
    if not run.root.is_dir():
        raise BadInputError(f"the run of release {release.version} is gone (the weights and "
                            "the bundle come from it)", where=str(run.root))
    for rel, sha in record.get("evidence", {}).items():
        if rel.startswith("report/") or rel == RELEASE_FILE:
            continue  # documents are re-rendered; they are checked through what they show
        path = run.root / rel
        if not path.is_file() or file_sha256(path) != sha:
            raise BadInputError(f"'{rel}' changed since release {release.version}: publish "
                                "what was released, or release the run again",
                                where=str(run.root))


def _weights(record: dict[str, Any], run: RunDir, wanted: str | None) -> tuple[str, Path]:
    """Which promoted folder to publish, checked against the hashes the release recorded."""
    files = record.get("model_files") or {}
    choices = [w for w in WEIGHTS if files.get(w)] if wanted is None else [wanted]
    if not choices or not files.get(choices[0]):
        raise BadInputError(f"release {record['version']} has no {wanted or 'model'} weights "
                            f"recorded (have: {', '.join(w for w in WEIGHTS if files.get(w)) or 'none'})",
                            where="--weights")
    kind = choices[0]
    folder = run.promoted_dir / kind
    actual = {p.relative_to(folder).as_posix(): file_sha256(p)
              for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}
    expected = files[kind]
    if actual != expected:
        differ = sorted(k for k in set(actual) | set(expected) if actual.get(k) != expected.get(k))
        raise BadInputError(f"promoted {kind} weights differ from release {record['version']} "
                            f"in {', '.join(differ[:5])}: refusing to publish other weights",
                            where=str(folder))
    return kind, folder


def stage(release: Release, out: Path, *, weights: str | None = None) -> tuple[str, list[str]]:
    """Write the release's files into `out`; returns (weights kind, the paths in the repo)."""
    record = release.record()
    run = RunDir(record["run_dir"])
    _unchanged_since_release(release, record, run)
    kind, folder = _weights(record, run, weights)
    card = release.folder.report_dir / "model_card.md"
    if not card.is_file():
        raise BadInputError("the release has no model card (report/model_card.md)",
                            where=str(release.folder.root))
    shutil.copytree(folder, out, dirs_exist_ok=True)
    shutil.copy2(card, out / "README.md")
    (out / "evidence").mkdir()
    shutil.copy2(release.folder.root / RELEASE_FILE, out / "evidence" / RELEASE_FILE)
    build_bundle(run.root, out / "evidence" / "bundle.zip")
    return kind, sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


def _mlflow_client(uri: str):
    """A client on the tracking URI, checked to answer before anything is published."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    try:
        client.search_experiments(max_results=1)
        client.search_registered_models(max_results=1)
    except Exception as exc:  # any failure to reach the store stops publishing
        raise PublishError(f"cannot reach the MLflow tracking server or store at {uri} "
                           f"({type(exc).__name__}: {redact(str(exc))[:300]}); nothing was "
                           "published") from exc
    return client


def _register_mlflow(client: Any, staging: Path, model_name: str, pub: Publication,
                     record: dict[str, Any]) -> dict[str, Any]:
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(MLFLOW_EXPERIMENT)
    experiment_id = (experiment.experiment_id if experiment is not None
                     else client.create_experiment(MLFLOW_EXPERIMENT))
    tags = {"medgate.release": pub.version, "medgate.verdict": str(record["verdict"]),
            "medgate.gate_sha256": str(record["gate_sha256"]),
            "medgate.run_id": str(record["run_id"]),
            "medgate.previous": str(record.get("previous") or ""),
            "medgate.hub_commit": pub.commit_url or ""}
    run = client.create_run(experiment_id, run_name=f"release {pub.version}", tags=tags)
    run_id = run.info.run_id
    try:
        client.log_artifacts(run_id, str(staging), artifact_path="release")
        client.set_terminated(run_id)
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    try:
        client.create_registered_model(model_name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":  # a later release: a new version
            raise
    version = client.create_model_version(model_name, source=f"runs:/{run_id}/release",
                                          run_id=run_id, tags=tags,
                                          description=f"medgate release {pub.version}")
    return {"model_name": model_name, "model_version": str(version.version),
            "run_id": run_id, "source": version.source}


def publish(registry: Registry, version: str, repo_id: str, *, weights: str | None = None,
            endpoint: str | None = None, private: bool = False,
            mlflow_uri: str | None = None, mlflow_model: str | None = None) -> Publication:
    """Push release `version` to the Hub as one commit, then register it in MLflow when a
    tracking URI is given. Appends to registry/publications/<version>.json on success only."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError

    release = registry.get(version)
    token = hub_token()
    if constants.HF_HUB_OFFLINE:
        raise PublishError("HF_HUB_OFFLINE is set: the Hub cannot be reached; nothing was "
                           "published")
    client = _mlflow_client(mlflow_uri) if mlflow_uri else None
    api = HfApi(endpoint=endpoint, token=token)
    with tempfile.TemporaryDirectory(prefix="medgate-publish-") as tmp:
        staging = Path(tmp) / "release"
        staging.mkdir()
        kind, files = stage(release, staging, weights=weights)
        pub = Publication(release.version, repo_id, api.endpoint, kind, files)
        try:
            api.create_repo(repo_id, exist_ok=True, private=private)
            info = api.upload_folder(
                folder_path=staging, repo_id=repo_id,
                commit_message=f"medgate release {release.version}",
                commit_description=f"Release {release.version} of run "
                                   f"{release.entry.get('run_id')} ({release.tag}), gate "
                                   f"{release.entry.get('verdict')}.")
        except HfHubHTTPError as exc:
            raise PublishError(f"the Hub at {api.endpoint} refused the release "
                               f"({redact(str(exc)).splitlines()[0][:300]}); no commit was "
                               "made") from exc
        except Exception as exc:  # network failures come as the HTTP
            # client's own types (connection refused, DNS, TLS, timeout)
            raise PublishError(f"cannot reach the Hub at {api.endpoint} "
                               f"({type(exc).__name__}: {redact(str(exc))[:300]}); nothing was "
                               "published") from exc
        pub.commit_url, pub.commit_oid = info.commit_url, info.oid
        if client is not None:
            try:
                pub.mlflow = _register_mlflow(client, staging, mlflow_model or
                                              repo_id.split("/")[-1], pub, release.record())
            except Exception as exc:  # said with what did happen
                raise PublishError(f"published to the Hub ({pub.commit_url}) but the MLflow "
                                   f"registration at {mlflow_uri} failed "
                                   f"({type(exc).__name__}: {redact(str(exc))[:300]})") from exc
    with registry.lock():
        path = registry.root / "publications" / f"{release.version}.json"
        done = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
        write_json(path, [*done, asdict(pub)])
    return pub
