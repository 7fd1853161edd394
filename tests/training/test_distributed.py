"""Two processes on CPU (torchrun, gloo) train the same config into the same layout.

This is the path to several GPUs: the same command with --nproc_per_node set to the
number of GPUs. It is the command documented in `medgate train --help`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from harness.app.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _layout(root) -> set[str]:
    # rng_state.pth is per rank under DDP (rng_state_0.pth, rng_state_1.pth) and a run lock
    # (.medgate.lock) is process bookkeeping: state, not the layout
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and not p.name.startswith(("rng_state", "."))}


@pytest.mark.slow
def test_torchrun_two_cpu_processes_write_the_same_layout(tmp_path, tiny_overrides):
    sets = []
    for item in [*tiny_overrides, "training.max_steps=2"]:
        sets += ["--set", item]
    single = tmp_path / "single"
    assert main(["train", "--run-dir", str(single), "--no-progress", *sets]) == 0

    double = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(_free_port()), "-m", "harness.app.cli", "train", "--run-dir", str(double),
           "--no-progress", *sets]
    proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((double / "train" / "result.json").read_text())
    assert result["world_size"] == 2 and result["final_step"] == 2
    only_ddp, only_single = _layout(double) - _layout(single), _layout(single) - _layout(double)
    assert not only_ddp and not only_single, (only_ddp, only_single)
    history = json.loads((double / "train" / "history.json").read_text())
    assert [h["step"] for h in history if "loss" in h] == [1, 2]  # one history, not one per rank
