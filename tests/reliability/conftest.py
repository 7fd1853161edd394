"""An uninterrupted reference run of the tiny pipeline, shared by the reliability tests.

It runs alongside a second uninterrupted run (the twin) with its own empty cache, so the
model really runs twice (determinism) while the wall time is that of one run on two cores.
The twin is also given a Hugging Face token, in the environment and in the config, so the
secrets test can grep everything it wrote; a token must change nothing in the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from . import pipeline_runs as pr


@dataclass
class Runs:
    reference: Path
    twin: Path
    reference_rc: int
    twin_rc: int
    twin_cache: Path
    twin_log: Path


TOKEN = "hf_medgateRELIABILITYsecret0123456789ab"
ENV_TOKEN = "hf_medgateENVIRONMENTsecret0123456789cd"


@pytest.fixture(scope="session")
def reference_runs(tmp_path_factory, tiny_model_dir) -> Runs:
    root = tmp_path_factory.mktemp("reference")
    reference = pr.start(pr.command(tiny_model_dir, root / "reference"),
                         pr.environment(root / "cache-reference"), root / "reference.log")
    twin = pr.start(pr.command(tiny_model_dir, root / "twin", sets=[f"model.hf_token={TOKEN}"]),
                    pr.environment(root / "cache-twin", HF_TOKEN=ENV_TOKEN), root / "twin.log")
    rcs = [p.wait(timeout=900) for p in (reference, twin)]
    return Runs(root / "reference", root / "twin", *rcs, root / "cache-twin", root / "twin.log")
