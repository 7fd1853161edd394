"""The main job's wall time and peak memory: `medgate train-and-gate` on the embedded
default, sequential (the default) and `--exhaustive`, each from a fresh result cache.

Each run is its own process (as a user starts it); its peak resident memory is the
children's maximum RSS from getrusage, its stage times come from the run's manifest.
The two verdicts are compared check by check: the same verdict, the same checks not
passed and the same outcomes are what make the faster run the same gate.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.core.io import file_sha256

OUT = Path(__file__).parent / "out"


def _run(run_dir: Path, cache: Path, extra: list[str]) -> dict:
    env = {**os.environ, "MEDGATE_CACHE": str(cache), "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1"}
    argv = [sys.executable, "-m", "harness.app.cli", "train-and-gate", "--run-dir",
            str(run_dir), *extra]
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode not in (0, 1):
        raise RuntimeError(f"train-and-gate exited {done.returncode}: {done.stderr[-3000:]}")
    gate = json.loads((run_dir / "gate.json").read_text(encoding="utf-8"))
    # the adapters each run trained: the two runs' verdicts are comparable check by check
    # only where they judged the same models
    adapters = {p.parent.name: file_sha256(p)[:16] for p in
                sorted((run_dir / "checkpoints").glob("*/adapter_model.safetensors"))}
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    return {"wall_s": round(wall, 1), "exit_code": done.returncode,
            # the largest child process so far: this run's own peak for the first run, the
            # larger of the two for the second
            "peak_rss_gb": round(peak_kb / 1024 ** 2, 2),
            "verdict": gate["verdict"], "stages_s": manifest.get("timings_s"),
            "not_passed": _not_passed(gate), "outcomes": _outcomes(gate),
            "sequential": gate.get("sequential"), "adapters_sha256": adapters}


def _not_passed(gate: dict) -> dict[str, list[str]]:
    return {tag: sorted(c["name"] for c in v["checks"] if c.get("gated") and not c["passed"])
            for tag, v in gate["checkpoints"].items()}


def _outcomes(gate: dict) -> dict[str, dict[str, str]]:
    return {tag: {c["name"]: c["outcome"] for c in v["checks"]}
            for tag, v in gate["checkpoints"].items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-exhaustive", action="store_true")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args(argv if argv is not None else [])
    extra = [x for o in args.overrides for x in ("--set", o)]
    runs = {}
    with tempfile.TemporaryDirectory(prefix="medgate-mainjob-") as tmp:
        root = Path(tmp)
        # sequential first: its peak RSS is then exactly its own
        runs["sequential"] = _run(root / "seq", root / "cache-seq", extra)
        if not args.skip_exhaustive:
            runs["exhaustive"] = _run(root / "full", root / "cache-full",
                                      [*extra, "--exhaustive"])
    result: dict = {"command": "medgate train-and-gate", "runs": runs,
                    "load_average": os.getloadavg()[0]}
    if "exhaustive" in runs:
        seq, full = runs["sequential"], runs["exhaustive"]
        result["same_verdict"] = seq["verdict"] == full["verdict"]
        result["same_not_passed"] = seq["not_passed"] == full["not_passed"]
        result["same_outcomes"] = seq["outcomes"] == full["outcomes"]
        result["same_models"] = {tag: digest == full["adapters_sha256"].get(tag)
                                 for tag, digest in seq["adapters_sha256"].items()}
        result["speedup"] = round(full["wall_s"] / seq["wall_s"], 2)
    for name, run in runs.items():
        print(f"{name}: {run['wall_s']} s, peak RSS {run['peak_rss_gb']} GB, {run['verdict']} "
              f"(exit {run['exit_code']}); stages {run['stages_s']}")
        for tag, names in run["not_passed"].items():
            print(f"  {tag} not passed: {', '.join(names)}")
    for key in ("same_models", "same_verdict", "same_not_passed", "same_outcomes", "speedup"):
        if key in result:
            print(f"{key}: {result[key]}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "main_job.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
