"""Hostile data files through `medgate eval --data medqa=FILE`, the way a user meets them.

Each must end in exit 2 with a message naming the file (and the line where there is one),
and no traceback on either stream.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.app.cli import main
from harness.core import console

ROW = {"question": "{{ 7*7 }} <script>alert(1)</script>", "options": {"A": "a", "B": "b"},
       "answer_idx": "A"}
HOSTILE = {
    "latin-1": (json.dumps({**ROW, "question": "café"}, ensure_ascii=False).encode("latin-1"),
                "not UTF-8"),
    "utf-16": (json.dumps(ROW).encode("utf-16"), "not UTF-8"),
    "truncated": ((json.dumps(ROW) + "\n" + json.dumps(ROW))[:-7].encode(), ":2: broken JSON"),
    "random-bytes": (bytes(range(256)) * 3, "not UTF-8"),
    "empty": (b"", "no items"),
    "deep-nesting": (b"[" * 100_000, ":1: broken JSON line (nested too deeply)"),
    "huge-number": (b'{"question": ' + b"7" * 5000 + b"}", ":1: broken JSON line"),
    "27-options": (json.dumps({**ROW, "options": ["o"] * 27}).encode(), ":1: field 'options'"),
    "null-question": (json.dumps({**ROW, "question": None}).encode(), ":1: missing field 'question'"),
    "list-answer": (json.dumps({**ROW, "answer_idx": ["A"]}).encode(), ":1: field 'answer_idx'"),
    "html-line": (b"<html><script>alert(1)</script></html>\n", ":1: broken JSON"),
}


def _eval(tiny_model_dir, path, run_dir):
    return main(["eval", "--model", str(tiny_model_dir), "--suites", "medqa",
                 "--data", f"medqa={path}", "--run-dir", str(run_dir), "--no-cache"])


@pytest.fixture
def wide_console(monkeypatch):
    """Wide enough that rich does not fold a long temporary path inside the message."""
    for stream in (console.out, console.err):
        monkeypatch.setattr(stream, "width", 1000)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_eval_with_hostile_medqa_file_exits_2(tiny_model_dir, tmp_path, capfd, wide_console,
                                              name):
    raw, expected = HOSTILE[name]
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(raw)
    assert _eval(tiny_model_dir, path, tmp_path / "run") == 2
    out, err = capfd.readouterr()
    said = " ".join(err.split())
    assert "Traceback" not in out + err and "internal error" not in said
    assert f"{path}" in said and expected in said, said[-600:]


def test_console_script_exit_code_and_streams(tiny_model_dir, tmp_path):
    """The installed entry point, in its own process: real exit code, no traceback."""
    medqa = tmp_path / "medqa.jsonl"
    medqa.write_bytes(HOSTILE["truncated"][0])
    pubmedqa = tmp_path / "pubmedqa.json"
    pubmedqa.write_bytes(b'{"1": {"QUESTION": "{{ 7*7 }}", "CONTEXTS": [], "final_decision": "yes"}}')
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "300",
           "MEDGATE_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-m", "harness.app.cli", "eval", "--model", str(tiny_model_dir),
         "--suites", "medqa,pubmedqa", "--data", f"medqa={medqa}", "--data",
         f"pubmedqa={pubmedqa}", "--run-dir", str(tmp_path / "run")],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    said = " ".join(proc.stderr.split())
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"{medqa}:2" in said and f"{pubmedqa}[1]: field 'CONTEXTS'" in said, said[-800:]
