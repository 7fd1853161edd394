"""Run-directory lock with real processes: the second refuses naming the holder, a lock
left by a killed process is taken over, and the CLI turns the refusal into exit 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.core.errors import EXIT_BAD_INPUT
from harness.core.lock import LOCK_NAME, RunLock, RunLockedError, lock_holder

ROOT = Path(__file__).resolve().parents[2]

_HOLDER = textwrap.dedent("""
    import sys, time
    from harness.core.lock import RunLock
    with RunLock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
    print("released", flush=True)
""")


def _hold(run_dir: Path, seconds: float = 120.0) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(run_dir), str(seconds)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


@pytest.fixture
def holder(tmp_path):
    procs: list[subprocess.Popen] = []

    def start(seconds: float = 120.0) -> subprocess.Popen:
        procs.append(_hold(tmp_path, seconds))
        return procs[-1]

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def test_second_process_refuses_naming_the_holder(tmp_path, holder):
    proc = holder()
    with pytest.raises(RunLockedError) as info:
        RunLock(tmp_path).acquire()
    message = str(info.value)
    assert f"process {proc.pid}" in message and str(tmp_path) in message
    assert info.value.exit_code == EXIT_BAD_INPUT
    assert lock_holder(tmp_path)["pid"] == proc.pid


def test_lock_of_a_killed_process_is_taken_over(tmp_path, holder):
    proc = holder()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    record = json.loads((tmp_path / LOCK_NAME).read_text())
    assert record["pid"] == proc.pid  # left behind by the dead process
    with RunLock(tmp_path) as lock:
        assert lock.previous["pid"] == proc.pid
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert lock_holder(tmp_path) is None


def test_waiting_lock_gets_the_run_when_the_holder_finishes(tmp_path, holder):
    proc = holder(seconds=1.0)
    with RunLock(tmp_path, timeout=60, poll=0.05) as lock:
        assert lock.previous is None  # released cleanly: nothing taken over
        assert proc.wait(timeout=30) == 0


def test_release_lets_another_process_in(tmp_path):
    with RunLock(tmp_path):
        pass
    out = subprocess.run([sys.executable, "-c", _HOLDER, str(tmp_path), "0"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert out.returncode == 0 and out.stdout.split() == ["locked", "released"]


def test_lock_is_reentrant_within_a_process(tmp_path):
    with RunLock(tmp_path), RunLock(tmp_path):
        assert lock_holder(tmp_path)["pid"] == os.getpid()
    assert lock_holder(tmp_path) is None


def test_cli_refuses_a_locked_run_directory_with_exit_2(tmp_path, holder):
    proc = holder()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-m", "harness.app.cli", "train-and-gate",
                          "--run-dir", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
                         check=False)
    assert out.returncode == EXIT_BAD_INPUT, out.stderr[-2000:]
    assert f"process {proc.pid}" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "gate.json").exists()
