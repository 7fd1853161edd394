"""Two `medgate release` processes at once never corrupt the registry: the index lock
makes one wait for the other, and every release in the index is whole on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from release_runs import promoted_run

from harness.core.io import file_sha256
from harness.core.rundir import RunDir
from reports.releases import Registry

ROOT = Path(__file__).resolve().parents[2]


def _release_at_once(*jobs: tuple[RunDir, str], registry: Path) -> list[int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "harness.app.cli", "release", "--run-dir",
                               str(run.root), "--version", version, "--registry", str(registry)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for run, version in jobs]
    codes = []
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 2), err  # released, or refused in words; never a crash
        codes.append(proc.returncode)
    return codes


def _assert_whole(registry: Path) -> list[str]:
    """The index parses; each entry's folder holds the evidence its release.json hashes;
    no folder is left that the index does not list; `previous` links the versions in order."""
    reg = Registry(registry)
    versions = [r.version for r in reg.releases()]
    folders = sorted(p.name for p in reg.releases_dir.iterdir())
    assert folders == sorted(versions), "a staging or orphan folder was left behind"
    previous = None
    for release in reg.releases():
        record = release.record()
        assert record["version"] == release.version and record["previous"] == previous
        for rel, sha in record["evidence"].items():
            assert file_sha256(release.folder.root / rel) == sha, rel
        previous = release.version
    return versions


def test_two_processes_release_at_once(make_run, tmp_path):
    registry = tmp_path / "registry"
    a, b = promoted_run(make_run, "a"), promoted_run(make_run, "b", gain={"medqa": 10})
    # the same version: exactly one wins, the other is told it exists
    codes = _release_at_once((a, "1.0.0"), (b, "1.0.0"), registry=registry)
    assert sorted(codes) == [0, 2]
    assert _assert_whole(registry) == ["1.0.0"]
    winner = a if codes[0] == 0 else b
    loser = b if winner is a else a
    entry = Registry(registry).entries()[0]
    assert entry["run_dir"] == str(winner.root.resolve())
    assert not (loser.root / "release.json").exists()
    # two versions: both land, in whichever order the lock gave, linked in that order
    c, d = promoted_run(make_run, "c"), promoted_run(make_run, "d", gain={"medqa": 12})
    codes = _release_at_once((c, "1.1.0"), (d, "1.2.0"), registry=registry)
    versions = _assert_whole(registry)
    if codes == [0, 0]:
        assert versions == ["1.0.0", "1.1.0", "1.2.0"]
    else:  # 1.2.0 came first, so 1.1.0 no longer comes after the latest
        assert codes == [2, 0] and versions == ["1.0.0", "1.2.0"]
    index = json.loads((registry / "index.json").read_text())
    assert index["format"] == "medgate-registry/1"
