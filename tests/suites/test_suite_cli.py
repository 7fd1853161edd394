"""`medgate eval` and `medgate suites`: exit codes and messages of the CLI contract."""

from __future__ import annotations

import json

from harness.app.cli import main


def test_suites_lists_every_spec(capsys):
    assert main(["suites", "--json"]) == 0
    specs = {s["name"]: s for s in json.loads(capsys.readouterr().out)}
    assert {"medqa", "pubmedqa", "medmcqa", "mmlu-medical", "general", "medtext-ppl",
            "notes-summary", "latency"} <= set(specs)
    assert specs["pubmedqa"]["metrics"] == ["accuracy", "macro_f1", "ece", "brier", "answer_spread"]
    assert specs["medmcqa"]["default_data"] is None and specs["general"]["demo"] is True
    for spec in specs.values():  # what a script needs of every suite
        assert {"name", "kind", "tags", "metrics", "default_data", "demo", "description",
                "options", "accepted_options"} <= set(spec)
    assert specs["safety"]["tags"] == ["safety"] and specs["latency"]["tags"] == ["latency"]


def test_unknown_suite_exits_2(tmp_path, capsys):
    code = main(["eval", "--model", "smollm2-135m", "--suites", "medqa,nosuch",
                 "--run-dir", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown suite 'nosuch'" in err and "medqa" in err
    assert not (tmp_path / "run").exists()


def test_suite_without_bundled_data_exits_2(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path / "cache"))
    code = main(["eval", "--model", str(tiny_model_dir), "--suites", "medmcqa",
                 "--run-dir", str(tmp_path / "run")])
    assert code == 2
    assert "--data medmcqa=PATH" in capsys.readouterr().err


def test_broken_file_exits_2_naming_line(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "medqa.jsonl"
    bad.write_text('{"question": "q", "options": {"A": "a", "B": "b"}, "answer_idx": "C"}\n')
    code = main(["eval", "--model", str(tiny_model_dir), "--suites", "medqa",
                 "--data", f"medqa={bad}", "--run-dir", str(tmp_path / "run")])
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{bad}:1" in err and "'answer_idx'='C' is not among the options" in err
    summary = json.loads((tmp_path / "run" / "evals" / "base" / "summary.json").read_text())
    assert "_error" in summary["medqa"]


def test_data_for_suite_not_run_and_bad_data_flag(tmp_path, capsys):
    assert main(["eval", "--suites", "medqa", "--data", "general=x.jsonl"]) == 2
    assert "not in --suites" in capsys.readouterr().err
    assert main(["eval", "--suites", "medqa", "--data", "medqa"]) == 2
    assert main(["eval", "--suites", "medqa", "--data", f"medqa={tmp_path}/none.jsonl"]) == 2
    assert "not found" in capsys.readouterr().err


def test_vllm_backend_without_vllm_is_a_clear_error(tmp_path, capsys):
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        return  # checked on a GPU machine instead
    code = main(["eval", "--model", "smollm2-135m", "--suites", "medqa", "--backend", "vllm",
                 "--run-dir", str(tmp_path / "run")])
    assert code == 2
    assert "needs the vllm package" in capsys.readouterr().err


def test_eval_end_to_end_prints_table(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "g.jsonl"
    data.write_text("".join(json.dumps({"subject": "astronomy", "question": f"Q{i}?",
                                        "choices": ["a", "b", "c", "d"], "answer": i % 4}) + "\n"
                            for i in range(4)))
    code = main(["eval", "--model", str(tiny_model_dir), "--suites", "general", "--data",
                 f"general={data}", "--limit", "3", "--run-dir", str(tmp_path / "run")])
    assert code == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "95% CI" in out
    records = (tmp_path / "run" / "evals" / "base" / "general.records.jsonl").read_text()
    assert len(records.splitlines()) == 3
