"""The data preflight scans every input of training: the training rows, the replay rows
mixed into them and a separate validation file, each finding named by its input and by
row numbers of that input's own file."""

from __future__ import annotations

import json
from pathlib import Path

from harness.app import pipeline
from harness.app.cli import main
from harness.app.pipeline import run_data_preflight
from harness.core.config import MedgateConfig
from harness.core.rundir import RunDir

GENERAL = Path(__file__).resolve().parents[2] / "suites" / "data" / "general_demo.jsonl"
CLEAN = [{"question": "What does a raised troponin suggest?", "answer": "Myocardial injury."},
         {"question": "What is the first-line treatment of anaphylaxis?",
          "answer": "Intramuscular adrenaline."}]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _general_items(indices: list[int]) -> list[dict]:
    lines = GENERAL.read_text(encoding="utf-8").splitlines()
    return [json.loads(lines[i]) for i in indices]


def _as_rows(items: list[dict]) -> list[dict]:
    """General-suite items copied into training rows, as a careless replay set would hold."""
    return [{"question": "\n".join([item["question"], *item["choices"]]),
             "answer": item["choices"][item["answer"]]} for item in items]


def test_replay_with_general_items_blocks_train_and_gate(tmp_path, capsys, monkeypatch):
    def no_model(*_args, **_kwargs):
        raise AssertionError("a model was evaluated: the preflight did not stop the run")

    monkeypatch.setattr(pipeline, "_evaluate", no_model)
    leaked = _general_items([2, 5, 7])
    train = _write(tmp_path / "train.jsonl", CLEAN)
    replay = _write(tmp_path / "replay.jsonl", [*CLEAN, *_as_rows(leaked)])
    run = tmp_path / "run"
    code = main(["train-and-gate", "--run-dir", str(run), "--set", f"dataset.name={train}",
                 "--set", f"dataset.replay.dataset={replay}", "--set", "dataset.replay.ratio=0.2",
                 "--set", "evaluation.suites=[general]", "--set", "preflight.overlap=block"])
    assert code == 1, capsys.readouterr().err
    report = json.loads((run / "data" / "preflight.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "BLOCK"
    assert sorted(report["contaminated"]["general"]) == sorted(i["id"] for i in leaked)
    detail = report["overlap_detail"]["general"]
    assert detail["by_source"] == {"train": 0, "replay": 3}
    # row numbers are the replay file's own: the leaked items are its rows 3, 4 and 5
    assert sorted(r for i in leaked for r in detail["rows"][i["id"]]["replay"]) == [3, 4, 5]
    assert report["sources"]["replay"] == {"where": str(replay), "rows": 5}
    assert report["rows"] == {"train": 2, "replay": 5}
    assert any("in replay 3" in r for r in report["reasons"])
    assert not (run / "checkpoints").exists()  # stopped before any model was trained


def _config(tmp_path: Path, **dataset) -> MedgateConfig:
    return MedgateConfig.model_validate({
        "dataset": {"name": str(_write(tmp_path / "train.jsonl", CLEAN)), **dataset},
        "evaluation": {"suites": ["general"]},
        "preflight": {"overlap": "remove", "phi": "block"},
    })


def test_replay_overlap_is_removed_from_scoring_under_remove(tmp_path):
    leaked = _general_items([1])
    replay = _write(tmp_path / "replay.jsonl", _as_rows(leaked))
    config = _config(tmp_path, replay={"dataset": str(replay), "ratio": 0.1})
    result = run_data_preflight(config, RunDir.create(tmp_path / "run"))
    assert result.passed
    assert result.excluded_items("general") == {leaked[0]["id"]}


def test_replay_not_mixed_in_is_not_scanned(tmp_path):
    replay = _write(tmp_path / "replay.jsonl", _as_rows(_general_items([1])))
    config = _config(tmp_path, replay={"dataset": str(replay), "ratio": 0.0})
    result = run_data_preflight(config, RunDir.create(tmp_path / "run"))
    assert result.contaminated == {} and set(result.rows) == {"train"}


def test_validation_file_is_scanned_for_overlap_and_phi(tmp_path):
    leaked = _general_items([4])
    validation = _write(tmp_path / "validation.jsonl", [
        *CLEAN, {"question": "Mr. Jonas Weber (MRN 88123456) asks about statins.",
                 "answer": "Discuss his risk."}, *_as_rows(leaked)])
    config = _config(tmp_path, validation_split=str(validation))
    run = RunDir.create(tmp_path / "run")
    result = run_data_preflight(config, run)
    assert not result.passed  # PHI under preflight.phi=block, in the validation file
    assert result.phi["mrn"]["by_source"] == {"validation": {"count": 1, "rows": [3],
                                                             "rows_total": 1}}
    assert any("validation: row 3" in r for r in result.reasons)
    assert result.contaminated == {"general": [leaked[0]["id"]]}
    assert result.overlap["general"]["rows"][leaked[0]["id"]] == {"validation": [4]}
    written = run.preflight.read_text(encoding="utf-8")
    assert "88123456" not in written and "Jonas" not in written
