"""manifest.json: what a run produced and what produced it.

The sha256 of every artifact, the model fingerprints and the package versions let a
reviewer (or a sign-off) tell whether the evidence they read is the evidence that exists.
"""

from __future__ import annotations

import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.core.atomic import write_json
from harness.core.io import file_sha256
from harness.core.precision import cpu_computes_bf16
from harness.core.rundir import RunDir

TRACKED_PACKAGES = ("medgate", "torch", "transformers", "peft", "trl", "accelerate", "bitsandbytes",
                    "datasets", "lm-eval", "evaluate", "nlpaug", "scikit-learn", "numpy", "scipy",
                    "jinja2", "rich", "pydantic", "vllm")
# Large or volatile files whose hashes say nothing a reviewer needs (weights are
# identified by fingerprint instead).
_SKIP_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".lock", ".tmp")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform(),
                            "machine": platform.machine()}
    try:
        import torch

        info["cuda"] = torch.cuda.is_available()
        if info["cuda"]:
            info["gpu"] = torch.cuda.get_device_name(0)
        info["cpu_threads"] = torch.get_num_threads()
        info["cpu_bf16"] = cpu_computes_bf16()
    except ImportError:
        info["cuda"] = False
    return info


def artifact_hashes(root: Path) -> dict[str, str]:
    hashes = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if (not path.is_file() or rel == "manifest.json" or path.suffix in _SKIP_SUFFIXES
                or "/optimizer" in rel or rel.startswith(".")):
            continue
        hashes[rel] = file_sha256(path)
    return hashes


def write_manifest(run: RunDir, *, fingerprints: dict[str, str] | None = None,
                   extra: dict[str, Any] | None = None) -> Path:
    manifest = {
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "fingerprints": fingerprints or {},
        "packages": package_versions(),
        "environment": environment(),
        "artifacts": artifact_hashes(run.root),
    }
    if extra:
        manifest.update(extra)
    return write_json(run.manifest, manifest)
