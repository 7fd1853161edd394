"""evaluation.checkpoint_limit: a quick screen while training, then the full evaluation
of every checkpoint, with the screened items reused from the cache."""

from __future__ import annotations

import json
import subprocess

from harness.core.records import read_records, records_path
from harness.core.summaries import read_summaries

from .pipeline_runs import command, environment


def test_screened_checkpoints_are_evaluated_in_full_reusing_the_screen(tiny_model_dir, tmp_path):
    run_dir = tmp_path / "run"
    argv = command(tiny_model_dir, run_dir, sets=["evaluation.checkpoint_limit=2"])
    done = subprocess.run(argv, env=environment(tmp_path / "cache"), capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    gate = json.loads((run_dir / "gate.json").read_text())
    assert sorted(gate["checkpoints"]) == ["checkpoint-2", "checkpoint-4"]
    for tag in ("checkpoint-2", "checkpoint-4"):
        eval_dir = run_dir / "evals" / tag
        for suite in ("medqa", "general"):
            assert len(read_records(records_path(eval_dir, suite))) == 6  # the full limit
            info = read_summaries(eval_dir)[suite].info
            assert info.limit == 6
            # the two screened items' requests (four choices each) were not scored again
            assert info.extra["cached_requests"] >= 8
