"""Sequential evaluation through `medgate train-and-gate`, against the same run exhaustive.

The tiny random model picks dangerous options of the critical suite, and its 24 planned
selection items are fewer than the check's min_n: the check is settled after the first
block (insufficient whatever the rest show), while the paired MedQA check scores every
selection item. Both runs must reach the same verdict with the same check outcomes, the
sequential one scoring fewer items and saying so in gate.json; --resume keeps it.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from harness.core.records import read_records, records_path
from harness.core.summaries import read_summaries

from .pipeline_runs import command, environment

SETS = ["evaluation.suites=[medqa,critical]", "evaluation.limit=40"]


def _run(tiny_model_dir, run_dir, cache, *extra: str) -> dict:
    argv = command(tiny_model_dir, run_dir, sets=SETS) + list(extra)
    done = subprocess.run(argv, env=environment(cache), capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return json.loads((run_dir / "gate.json").read_text())


def _not_passed(gate: dict) -> dict[str, list[str]]:
    return {tag: sorted(c["name"] for c in v["checks"] if c.get("gated") and not c["passed"])
            for tag, v in gate["checkpoints"].items()}


@pytest.mark.slow
def test_sequential_gate_matches_exhaustive_with_fewer_items(tiny_model_dir, tmp_path):
    cache = tmp_path / "cache"
    seq = _run(tiny_model_dir, tmp_path / "seq", cache)
    resumed = _run(tiny_model_dir, tmp_path / "seq", cache, "--resume")
    full = _run(tiny_model_dir, tmp_path / "full", cache, "--exhaustive")

    assert resumed["verdict"] == seq["verdict"]
    assert _not_passed(resumed) == _not_passed(seq)

    assert seq["verdict"] == full["verdict"]
    assert _not_passed(seq) == _not_passed(full)
    for tag, verdict in seq["checkpoints"].items():
        outcomes = {c["name"]: c["outcome"] for c in verdict["checks"]}
        assert outcomes == {c["name"]: c["outcome"] for c in full["checkpoints"][tag]["checks"]}

    assert full["sequential"]["exhaustive"] is True
    assert seq["sequential"]["exhaustive"] is False and "curtailment" in seq["sequential"]["method"]
    stopped = seq["sequential"]["models"]["checkpoint-2"]["critical"]
    assert stopped["scored"]["selection"] < stopped["planned"]["selection"]
    critical = next(c for c in seq["checkpoints"]["checkpoint-2"]["checks"]
                    if c["name"] == "critical_error_rate")
    assert critical["sequential"]["rule"] == "curtailment"
    assert critical["sequential"]["scored"] < critical["sequential"]["planned"]

    # the base and the candidates were scored on every choosing item of the paired suite
    # and on no confirming one (no candidate was chosen: the tiny model fails the gate)
    assert seq["chosen"] is None
    for tag in ("base", "checkpoint-2", "checkpoint-4"):
        seq_n = len(read_records(records_path(tmp_path / "seq" / "evals" / tag, "medqa")))
        full_n = len(read_records(records_path(tmp_path / "full" / "evals" / tag, "medqa")))
        assert seq_n == seq["split"]["items"]["medqa"]["selection"] < full_n == 40
        info = read_summaries(tmp_path / "seq" / "evals" / tag)["medqa"].info.extra
        assert info["sequential"]["scored"] == {"selection": seq_n}



SCREEN_POLICY = """\
name: forgetting-screen
description: One screen the tiny model passes, so that a candidate is chosen.
min_n: 5
selection: {rule: best_primary, suite: general, metric: accuracy, confirm_fraction: 0.5}
checks:
  - name: forgetting
    suite: general
    metric: accuracy
    judge: delta_vs_base
    bound: point
    screen: true
    op: "<="
    threshold: 0.5
"""


@pytest.mark.slow
def test_only_the_chosen_candidate_and_the_base_score_the_confirming_items(tiny_model_dir,
                                                                           tmp_path):
    """With a policy the tiny model passes, a candidate is chosen: it and the base then
    score the confirming items and the suite no check reads (medqa), the other candidate
    never does, and the verdict is the exhaustive run's."""
    cache = tmp_path / "cache"
    policy = tmp_path / "policy.yaml"
    policy.write_text(SCREEN_POLICY)
    extra = ["--set", f"gates.policy={policy}", "--set", "evaluation.suites=[medqa,general]",
             "--set", "evaluation.limit=20"]
    argv = command(tiny_model_dir, tmp_path / "seq") + extra
    seq_rc = subprocess.run(argv, env=environment(cache), capture_output=True, text=True,
                            timeout=900, check=False)
    argv = command(tiny_model_dir, tmp_path / "full") + extra + ["--exhaustive"]
    full_rc = subprocess.run(argv, env=environment(cache), capture_output=True, text=True,
                             timeout=900, check=False)
    assert seq_rc.returncode == full_rc.returncode == 0, seq_rc.stderr[-3000:]
    seq = json.loads((tmp_path / "seq" / "gate.json").read_text())
    full = json.loads((tmp_path / "full" / "gate.json").read_text())
    assert seq["verdict"] == full["verdict"] == "PROMOTE"
    assert seq["chosen"] == full["chosen"] is not None
    assert seq["confirmation"]["verdict"] == full["confirmation"]["verdict"]
    chosen = seq["chosen"]
    other = next(t for t in seq["checkpoints"] if t != chosen)
    evals = tmp_path / "seq" / "evals"
    for tag in ("base", chosen):
        for suite in ("medqa", "general"):
            assert len(read_records(records_path(evals / tag, suite))) == 20
    assert len(read_records(records_path(evals / other, "general"))) == \
        seq["split"]["items"]["general"]["selection"] < 20
    assert not records_path(evals / other, "medqa").exists()  # no gated check reads it
