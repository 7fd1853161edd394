"""Every command that writes into a run directory refuses (exit 2, naming the holder)
while another process holds that run, instead of writing beside it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.app.cli import main

ROOT = Path(__file__).resolve().parents[2]
_HOLDER = textwrap.dedent("""
    import sys, time
    from harness.core.lock import RunLock
    with RunLock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(300)
""")


@pytest.fixture
def held_run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(run)], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield run
    proc.kill()
    proc.wait(timeout=30)


def _commands(run: Path, model: Path, out: Path) -> dict[str, list[str]]:
    return {
        "train": ["train", "--run-dir", str(run), "--set", f"model.name={model}"],
        "train-and-gate": ["train-and-gate", "--run-dir", str(run), "--set", f"model.name={model}"],
        "eval": ["eval", "--model", str(model), "--suites", "medqa", "--limit", "2",
                 "--run-dir", str(run)],
        "gate": ["gate", "--run-dir", str(run)],
        "report": ["report", "--run-dir", str(run)],
        "signoff": ["signoff", "--run-dir", str(run), "--reviewer", "A. Reviewer",
                    "--role", "physician", "--decision", "approve"],
        "export": ["export", "--run-dir", str(run), "--out", str(out)],
    }


def test_every_writing_command_refuses_a_run_in_use(held_run, tiny_model_dir, tmp_path, capsys):
    before = sorted(p.name for p in held_run.rglob("*"))
    for name, argv in _commands(held_run, tiny_model_dir, tmp_path / "bundle.zip").items():
        code = main(argv)
        message = " ".join(capsys.readouterr().err.split())
        assert code == 2, f"{name}: exit {code}: {message}"
        assert "in use by process" in message and "Traceback" not in message, name
    # nothing was written beside the holder: no records, gate, reports or bundle
    assert sorted(p.name for p in held_run.rglob("*")) == before
    assert not (tmp_path / "bundle.zip").exists()
