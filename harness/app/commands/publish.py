"""Publish a release: push it to the Hugging Face Hub as one commit (the promoted weights,
README.md with model-index, the release record and the evidence bundle) and, when an
MLflow tracking URI is given (--mlflow-uri or MLFLOW_TRACKING_URI), register it as a
model version there.

The Hub token is read from HF_TOKEN only; HF_ENDPOINT (or --endpoint) names another Hub.
Exit 0 published, 2 bad input or an unreachable destination (nothing was published).
"""

from __future__ import annotations

import argparse
import os

from harness.app.publish import WEIGHTS, publish
from harness.core.console import err, out
from reports.releases import DEFAULT_REGISTRY, Registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", required=True, help="the release to publish, or latest")
    parser.add_argument("--repo-id", required=True, help="Hub repository, e.g. org/model")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY,
                        help=f"release registry folder (default: {DEFAULT_REGISTRY}/)")
    parser.add_argument("--weights", choices=WEIGHTS,
                        help="publish the merged weights or the adapter (default: merged when "
                             "the release has them)")
    parser.add_argument("--endpoint", help="Hub endpoint (default: HF_ENDPOINT, else the Hub)")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--mlflow-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI;"
                                             " neither: no MLflow registration)")
    parser.add_argument("--mlflow-model", help="registered model name in MLflow (default: the "
                                               "repository name)")


def run(args: argparse.Namespace) -> int:
    mlflow_uri = args.mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI") or None
    endpoint = args.endpoint or os.environ.get("HF_ENDPOINT") or None
    err.print(f"publishing release {args.version} to {args.repo_id}"
              + (f" and MLflow at {mlflow_uri}" if mlflow_uri else ""), highlight=False)
    pub = publish(Registry(args.registry), args.version, args.repo_id, weights=args.weights,
                  endpoint=endpoint, private=args.private, mlflow_uri=mlflow_uri,
                  mlflow_model=args.mlflow_model)
    out.print(f"published {pub.version} ({pub.weights}): {pub.commit_url}", highlight=False)
    for name in pub.files:
        err.print(f"  {name}", highlight=False)
    if pub.mlflow:
        out.print(f"MLflow: model '{pub.mlflow['model_name']}' version "
                  f"{pub.mlflow['model_version']} (run {pub.mlflow['run_id']})", highlight=False)
    return 0
