"""Promoted runs to release: synthetic records judged by the default policy, promoted with
an adapter, merged weights and a tokenizer whose chat template a test chooses."""

from __future__ import annotations

import json

from conftest import write_model

from gates.judge import judge_run, write_gate
from gates.policy import load_policy
from gates.promote import promote
from harness.app.cli import main
from harness.core.rundir import RunDir

TEMPLATE = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"


def promoted_run(make_run, name: str, *, template: str = TEMPLATE, records=None,
                 vocab: dict[str, int] | None = None, **model) -> RunDir:
    """A run whose checkpoint-10 the default policy PROMOTEs, promoted like train-and-gate
    promotes (gate.json first, lineage bound to it). `records` replace suites' records of
    the base and the checkpoint alike."""
    run = make_run(name, records=records, **model)
    if records:
        write_model(run, "base", records=records)
    folder = run.checkpoints_dir / "checkpoint-10"
    (folder / "merged").mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    (folder / "adapter_model.safetensors").write_bytes(f"adapter {name}".encode())
    (folder / "merged" / "model.safetensors").write_bytes(f"merged {name}".encode())
    (folder / "merged" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (folder / "merged" / "tokenizer.json").write_text(
        json.dumps({"model": {"vocab": vocab or {"a": 0}}}))
    (folder / "merged" / "tokenizer_config.json").write_text(
        json.dumps({"chat_template": template, "eos_token": "<|im_end|>"}))
    result = judge_run(run, load_policy("default"))
    write_gate(run, result)
    assert result.verdict == "PROMOTE", result.reasons
    promote(run, result.selected, result, lineage={"base_fingerprint": "base-fp",
                                                   "fine_tune": "adapter (lora)"})
    return run


def release(run: RunDir, version: str, registry, *extra: str) -> int:
    return main(["release", "--run-dir", str(run.root), "--version", version,
                 "--registry", str(registry), *extra])
