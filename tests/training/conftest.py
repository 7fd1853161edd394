"""Small data files and a tiny-model config for the fine-tuning tests (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TASKS = {
    "diagnosis": ("Given symptoms: {x}, provide differential diagnosis",
                  "Differential: viral infection, bacterial pneumonia, asthma flare. Examine and test."),
    "treatment": ("For patient with {x}, recommend treatment plan",
                  "Rest, fluids and review in 48 hours; escalate if breathing worsens."),
    "test_interpretation": ("Analyze lab results: {x}, clinical significance",
                            "Mildly raised values; repeat the test and correlate with symptoms."),
    "patient_education": ("Explain {x} in patient-friendly language",
                          "It is a common condition. Take medicines as prescribed and ask your doctor."),
}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def instruction_rows(n: int = 24) -> list[dict]:
    rows = []
    names = list(TASKS)
    for i in range(n):
        task = names[i % len(names)]
        prompt, answer = TASKS[task]
        rows.append({"id": f"t{i}", "task": task, "instruction": prompt.format(x=f"case {i}"),
                     "input": "" if i % 2 else f"Age {20 + i}", "output": answer})
    return rows


@pytest.fixture
def instr_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "instr.jsonl", instruction_rows())


@pytest.fixture
def tiny_overrides(tiny_model_dir, instr_file) -> list[str]:
    """--set overrides that make any config train the tiny model in seconds."""
    return [f"model.name={tiny_model_dir}", f"dataset.name={instr_file}", "training.max_steps=4",
            "training.micro_batch_size=4", "training.gradient_accumulation=1",
            "training.max_seq_length=256", "training.gradient_checkpointing=false",
            "training.save_steps=2", "training.eval_steps=2", "training.learning_rate=0.005",
            "peft.r=4", "peft.alpha=8"]
