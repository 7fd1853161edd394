"""n-shot and chat-template options go through lm-eval and change what is scored (and cached)."""

from __future__ import annotations

import json

from harness.core.config import EvaluationConfig
from harness.core.records import read_records

ROWS = [{"id": f"m{i}", "question": f"Question number {i}?",
         "options": {"A": "alpha", "B": "beta", "C": "gamma", "D": "delta"},
         "answer_idx": "ABCD"[i % 4]} for i in range(4)]


def test_fewshot_and_chat_prompts(tiny_model_dir, tmp_path):
    from harness.app.evaluation import evaluate_model
    from harness.core.backends import open_model
    from harness.core.cache import ResultCache

    data = tmp_path / "m.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    cache = ResultCache(tmp_path / "cache")

    def run(name: str, **cfg):
        handle = open_model(str(tiny_model_dir), cache=cache)
        out = evaluate_model(handle, ["medqa"], tmp_path / name, data={"medqa": str(data)},
                             config=EvaluationConfig(**cfg), progress=False)
        assert out["failed"] == {}
        return handle, read_records(tmp_path / name / "medqa.records.jsonl")

    _, zero = run("zero")
    assert zero[0].prompt.startswith("Question: Question number 0?")
    shot_handle, shots = run("shots", num_fewshot=2)
    assert shot_handle.stats["requests_scored"] == 16  # not served from the zero-shot cache
    assert shot_handle.stats["cache_hits"] == 0
    for record in shots:
        assert record.prompt.count("Question: ") == 3
        assert record.prompt.endswith(f"Question: {record.item_id.replace('m', 'Question number ')}"
                                      "?\nA. alpha\nB. beta\nC. gamma\nD. delta\nAnswer:")
    chat_handle, chat = run("chat", apply_chat_template=True)
    assert chat_handle.stats["requests_scored"] == 16 and chat_handle.stats["cache_hits"] == 0
    assert all("<|im_start|>" in r.prompt for r in chat)
    info = json.loads((tmp_path / "shots" / "summary.json").read_text())["medqa"]["_info"]
    assert info["num_fewshot"] == 2


def test_latency_suite_is_measured_not_cached(tiny_model_dir, tmp_path):
    from harness.app.evaluation import evaluate_model
    from harness.core.backends import open_model
    from harness.core.cache import ResultCache

    notes = tmp_path / "notes.jsonl"
    notes.write_text("".join(json.dumps({"id": f"n{i}", "note": f"Patient {i} is well.",
                                         "summary": "Well."}) + "\n" for i in range(3)))
    for name in ("a", "b"):
        handle = open_model(str(tiny_model_dir), cache=ResultCache(tmp_path / "cache"))
        out = evaluate_model(handle, ["latency"], tmp_path / name, data={"latency": str(notes)},
                             limit=2, progress=False)
        assert out["failed"] == {} and handle.stats["loads"] == 1  # timing needs the model
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())["latency"]
    assert summary["p50_s"]["n"] == 2 and 0 < summary["p50_s"]["value"] <= summary["p95_s"]["value"]
    assert summary["_info"]["device"] in ("cpu", "cuda")
