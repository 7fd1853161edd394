"""The data gate through the pipeline's own path: a training file read by the dataset
reader, evaluation items from the suite registry, preflight.json in the run directory."""

from __future__ import annotations

import json
from pathlib import Path

from harness.app.pipeline import run_data_preflight
from harness.core.config import MedgateConfig
from harness.core.rundir import RunDir

GENERAL = Path(__file__).resolve().parents[2] / "suites" / "data" / "general_demo.jsonl"


def _config(train: Path, **preflight) -> MedgateConfig:
    return MedgateConfig.model_validate({
        "dataset": {"name": str(train)},
        "evaluation": {"suites": ["general"]},
        "preflight": preflight,
    })


def test_training_file_with_an_eval_item_and_phi_is_caught(tmp_path):
    item = json.loads(GENERAL.read_text(encoding="utf-8").splitlines()[3])
    rows = [
        {"question": "What is the first-line treatment of anaphylaxis?",
         "answer": "Intramuscular adrenaline 0.5 mg into the anterolateral thigh."},
        {"question": "Mr. Jonas Weber (MRN 88123456) asks whether he should keep taking statins.",
         "answer": "Discuss his cardiovascular risk with him."},
        {"question": "\n".join([item["question"], *item["choices"]]),
         "answer": item["choices"][item["answer"]]},
    ]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run = RunDir.create(tmp_path / "run")

    result = run_data_preflight(_config(train, phi="block", overlap="remove"), run)

    assert not result.passed
    assert result.contaminated == {"general": [item["id"]]}
    assert result.phi["name"]["by_source"]["train"]["rows"] == [2]
    assert result.phi["mrn"]["by_source"]["train"]["rows"] == [2]
    assert result.provenance["source"] == str(train)
    written = run.preflight.read_text(encoding="utf-8")
    assert "88123456" not in written and "Jonas" not in written
    assert json.loads(written)["overlap"] == {"general": 1}


def test_clean_training_file_passes(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"question": "What does a raised troponin suggest?",
                                 "answer": "Myocardial injury."}) + "\n", encoding="utf-8")
    run = RunDir.create(tmp_path / "run")
    result = run_data_preflight(_config(train), run)
    assert result.passed and result.reasons == []
    assert json.loads(run.preflight.read_text())["verdict"] == "PASS"
