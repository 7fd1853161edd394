"""`medgate train`, `init` and `plan` through the CLI entry point: exit codes and messages."""

from __future__ import annotations

import json

from finetune.trainer import train
from harness.app.cli import main
from harness.app.defaults import load_default_config
from harness.core.config import MedgateConfig, load_config
from harness.core.rundir import RunDir

from .conftest import instruction_rows, write_jsonl


def test_config_typo_exits_2_naming_the_key(tmp_path, capsys):
    path = tmp_path / "medgate.yaml"
    path.write_text("trainng:\n  max_steps: 3\n", encoding="utf-8")
    assert main(["train", "-c", str(path), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "trainng" in err and str(path) in err and "Traceback" not in err


def test_set_with_unknown_key_exits_2(tmp_path, capsys):
    assert main(["train", "--run-dir", str(tmp_path / "run"), "--set", "training.max_stepz=3"]) == 2
    assert "training.max_stepz" in capsys.readouterr().err


def test_row_without_answer_exits_2_naming_file_and_row(tmp_path, tiny_model_dir, capsys):
    rows = instruction_rows(8)
    del rows[5]["output"]
    data = write_jsonl(tmp_path / "bad.jsonl", rows)
    code = main(["train", "--run-dir", str(tmp_path / "run"), "--no-progress",
                 "--set", f"model.name={tiny_model_dir}", "--set", f"dataset.name={data}"])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.jsonl" in err and "row 6" in err and "output" in err and "Traceback" not in err


def test_train_cli_writes_the_run_directory(tmp_path, tiny_overrides, capsys):
    run = tmp_path / "run"
    args = ["train", "--run-dir", str(run), "--no-progress"]
    for item in [*tiny_overrides, "training.max_steps=2"]:
        args += ["--set", item]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert str(run) in out and "merged weights" in out
    for sub in ("config.resolved.yaml", "train/train.log", "train/history.json", "adapters/adapter_config.json",
                "checkpoints/checkpoint-2/adapter_config.json", "merged/config.json"):
        assert (run / sub).exists(), sub


def test_resolved_config_has_no_token(tmp_path, tiny_overrides, monkeypatch):
    secret = "hf_" + "x" * 30
    config = load_config(None, [*tiny_overrides, "training.max_steps=1", f"model.hf_token={secret}"])
    run = RunDir.create(tmp_path / "run")
    train(config, run, progress=False)
    for path in run.root.rglob("*"):
        if path.is_file() and path.suffix in (".yaml", ".json", ".log", ".md", ".jinja"):
            assert secret not in path.read_text(encoding="utf-8", errors="ignore"), path


def test_init_writes_a_config_that_loads_back(tmp_path, capsys):
    path = tmp_path / "medgate.yaml"
    assert main(["init", "--out", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    for section in MedgateConfig.model_fields:
        assert f"\n{section}:" in text
    assert load_config(path) == MedgateConfig()
    assert "#" in text and "hf_token" in text
    assert main(["init", "--out", str(path)]) == 2  # no silent overwrite
    assert "--force" in capsys.readouterr().err
    assert main(["init", "--out", str(path), "--force"]) == 0


def test_default_config_loads_and_overrides(tmp_path):
    config = load_default_config(["training.max_steps=7"])
    assert config.model.name == "smollm2-135m" and config.dataset.name == "demo"
    assert config.training.max_steps == 7 and config.peft.method == "lora"
    assert config.training.save_steps % config.training.eval_steps == 0


def test_plan_cli_parses_size_from_name(capsys):
    assert main(["plan", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu-mem", "24",
                 "--method", "qlora", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["parameters"] == 8_000_000_000 and "parsed from the name" in plan["shape_source"]
    assert plan["fits"] and plan["estimate"]["method"] == "qlora"
    assert plan["estimate"]["total_gib"] <= 24


def test_plan_cli_unknown_model_exits_2(capsys):
    assert main(["plan", "--model", "someone/mystery-model", "--gpu-mem", "24"]) == 2
    assert "mystery-model" in capsys.readouterr().err


def test_plan_cli_counts_parameters_of_a_local_model(tiny_model_dir, capsys):
    import torch
    from transformers import AutoModelForCausalLM

    assert main(["plan", "--model", str(tiny_model_dir), "--gpu-mem", "8", "--method", "full", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    assert plan["parameters"] == sum(p.numel() for p in model.parameters())
