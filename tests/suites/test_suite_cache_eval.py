"""The evaluator writes records and summaries; the cache makes a re-run load no model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core.config import EvaluationConfig
from harness.core.records import read_records

ROWS = [{"id": f"g{i}", "subject": ["astronomy", "world_religions"][i % 2],
         "question": f"Which of these is item {i}?", "choices": ["one", "two", "three", "four"],
         "answer": i % 4} for i in range(6)]
MEDQA = [{"id": f"m{i}", "question": f"Patient {i} has a fever. Best next step?",
          "options": {"A": "Cultures", "B": "Discharge", "C": "Surgery", "D": "MRI"},
          "answer_idx": "ABCD"[i % 4]} for i in range(5)]


def summary_on_disk(eval_dir):
    """summary.json as written: the on-disk layout of the design, underscore keys included."""
    return json.loads((eval_dir / "summary.json").read_text(encoding="utf-8"))


def write(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture
def data(tmp_path):
    return {"general": write(tmp_path / "general.jsonl", ROWS),
            "medqa": write(tmp_path / "medqa.jsonl", MEDQA)}


def handle(model_dir, cache_dir, **kwargs):
    from harness.core.backends import open_model
    from harness.core.cache import ResultCache

    return open_model(str(model_dir), cache=ResultCache(cache_dir), **kwargs)


def test_records_summary_and_cache_hit_loads_nothing(tiny_model_dir, tmp_path, data):
    from harness.app.evaluation import evaluate_model

    first = handle(tiny_model_dir, tmp_path / "cache")
    out = evaluate_model(first, ["medqa", "general"], tmp_path / "a", data=data, progress=False)
    assert out["failed"] == {}
    assert first.stats["loads"] == 1 and first.stats["forward_calls"] > 0
    summary = summary_on_disk(tmp_path / "a")
    assert set(summary["medqa"]) == {"accuracy", "ece", "brier", "answer_spread", "_info"}
    acc = summary["medqa"]["accuracy"]
    assert acc["n"] == 5 and acc["ci"][0] <= acc["value"] <= acc["ci"][1]
    info = summary["general"]["_info"]
    assert info["demo"] is False and info["fingerprint"].startswith("sha256:")
    assert info["data_sha256"] and info["backend"] == "hf" and info["n_items"] == 6
    assert "accuracy.astronomy" in summary["general"]
    assert info["metrics"] == ["accuracy", "accuracy.<subject>", "answer_spread"]
    assert info["metric_seed"] == 1234 and isinstance(info["metric_options"], dict)
    records = read_records(tmp_path / "a" / "medqa.records.jsonl")
    assert [r.item_id for r in records] == [f"m{i}" for i in range(5)]
    assert all(r.gold in "ABCD" and r.pred in "ABCD" and len(r.choice_logprobs) == 4
               for r in records)

    second = handle(tiny_model_dir, tmp_path / "cache")
    out2 = evaluate_model(second, ["medqa", "general"], tmp_path / "b", data=data, progress=False)
    # 5 + 6 items of four choices: 44 log-likelihood requests, every one answered by the cache
    assert second.stats == {"loads": 0, "forward_calls": 0, "requests_scored": 0,
                            "cache_hits": 44}
    assert out2["cache_hits"] == 44
    again = read_records(tmp_path / "b" / "medqa.records.jsonl")
    assert [r.model_dump() for r in again] == [r.model_dump() for r in records]


def test_changed_item_is_rescored_alone(tiny_model_dir, tmp_path, data):
    from harness.app.evaluation import evaluate_model

    evaluate_model(handle(tiny_model_dir, tmp_path / "cache"), ["medqa"], tmp_path / "a",
                   data=data, progress=False)
    changed = [dict(r) for r in MEDQA]
    changed[2] = {**changed[2], "question": "A different question?"}
    data["medqa"] = write(tmp_path / "medqa2.jsonl", changed)
    h = handle(tiny_model_dir, tmp_path / "cache")
    evaluate_model(h, ["medqa"], tmp_path / "b", data=data, progress=False)
    assert h.stats["requests_scored"] == 4 and h.stats["cache_hits"] == 16  # one item's choices


def test_no_cache_config_scores_again(tiny_model_dir, tmp_path, data):
    from harness.app.evaluation import evaluate_model

    evaluate_model(handle(tiny_model_dir, tmp_path / "cache"), ["medqa"], tmp_path / "a",
                   data=data, progress=False)
    h = handle(tiny_model_dir, tmp_path / "cache")
    evaluate_model(h, ["medqa"], tmp_path / "b", data=data, progress=False,
                   config=EvaluationConfig(cache=False))
    assert h.stats["requests_scored"] == 20 and h.stats["cache_hits"] == 0


def test_a_model_in_another_dtype_is_scored_afresh(tiny_model_dir, tmp_path, data):
    """Float32 answers do not answer the same weights in bfloat16: the dtype is in the key."""
    from harness.app.evaluation import evaluate_model

    first = handle(tiny_model_dir, tmp_path / "cache", dtype="float32")
    evaluate_model(first, ["medqa"], tmp_path / "a", data=data, progress=False)
    assert first.stats["requests_scored"] == 20
    half = handle(tiny_model_dir, tmp_path / "cache", dtype="bfloat16")
    evaluate_model(half, ["medqa"], tmp_path / "b", data=data, progress=False)
    assert half.stats["cache_hits"] == 0 and half.stats["requests_scored"] == 20
    assert half.stats["loads"] == 1
    auto = handle(tiny_model_dir, tmp_path / "cache")  # "auto" loads float32 on this backend
    evaluate_model(auto, ["medqa"], tmp_path / "c", data=data, progress=False)
    assert auto.stats["cache_hits"] == 20 and auto.stats["loads"] == 0
    assert summary_on_disk(tmp_path / "c")["medqa"]["accuracy"] == \
        summary_on_disk(tmp_path / "a")["medqa"]["accuracy"]


def test_failing_suite_is_recorded_and_others_continue(tiny_model_dir, tmp_path, data):
    from harness.app.evaluation import evaluate_model

    bad = tmp_path / "broken.jsonl"
    bad.write_text(json.dumps(MEDQA[0]) + "\n{not json\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "medqa.records.jsonl").write_text("stale\n")
    out = evaluate_model(handle(tiny_model_dir, tmp_path / "cache"), ["medqa", "general"],
                         tmp_path / "a", data={**data, "medqa": str(bad)}, progress=False)
    assert out["bad_input"] == ["medqa"] and f"{bad}:2" in out["failed"]["medqa"]
    summary = summary_on_disk(tmp_path / "a")
    assert "_error" in summary["medqa"] and "accuracy" not in summary["medqa"]
    assert summary["general"]["accuracy"]["n"] == 6
    assert not (tmp_path / "a" / "medqa.records.jsonl").exists()


def test_generation_and_perplexity_suites(tiny_model_dir, tmp_path):
    from harness.app.evaluation import evaluate_model

    notes = write(tmp_path / "notes.jsonl", [
        {"id": "n1", "note": "72M, chest pain 2h, troponin raised.", "summary": "NSTEMI, admit."},
        {"id": "n2", "note": "30F, sore throat, afebrile.", "summary": "Viral pharyngitis."}])
    text = write(tmp_path / "text.jsonl", [{"id": "t1", "text": "Aspirin inhibits platelets."},
                                           {"id": "t2", "text": "Insulin lowers glucose."}])
    h = handle(tiny_model_dir, tmp_path / "cache")
    out = evaluate_model(h, ["notes-summary", "medtext-ppl"], tmp_path / "a",
                         data={"notes-summary": notes, "medtext-ppl": text},
                         config=EvaluationConfig(max_new_tokens=8), progress=False)
    assert out["failed"] == {}
    summary = summary_on_disk(tmp_path / "a")
    assert 0 <= summary["notes-summary"]["rouge_l"]["value"] <= 1
    assert summary["notes-summary"]["bleu4"]["n"] == 2
    ppl = summary["medtext-ppl"]["perplexity"]["value"]
    assert ppl > 1 and summary["medtext-ppl"]["bits_per_byte"]["value"] > 0
    records = read_records(tmp_path / "a" / "notes-summary.records.jsonl")
    assert records[0].output is not None and records[0].gold == "NSTEMI, admit."
    h2 = handle(tiny_model_dir, tmp_path / "cache")
    evaluate_model(h2, ["notes-summary", "medtext-ppl"], tmp_path / "b",
                   data={"notes-summary": notes, "medtext-ppl": text},
                   config=EvaluationConfig(max_new_tokens=8), progress=False)
    assert h2.stats["loads"] == 0
    assert summary_on_disk(tmp_path / "b")["medtext-ppl"]["perplexity"]["value"] == ppl
