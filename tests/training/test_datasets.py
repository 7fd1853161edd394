from __future__ import annotations

import json

import pytest

from finetune.datasets import load_training_data, read_training_rows
from harness.core.config import load_config
from harness.core.errors import BadInputError

from .conftest import instruction_rows, write_jsonl


def cfg(*overrides):
    return load_config(None, list(overrides))


def test_local_formats_read_the_same_rows(tmp_path):
    import datasets

    rows = instruction_rows(10)
    jsonl = write_jsonl(tmp_path / "d.jsonl", rows)
    ds = datasets.Dataset.from_list(rows)
    ds.to_csv(str(tmp_path / "d.csv"), index=False)
    ds.to_parquet(str(tmp_path / "d.parquet"))
    ds.save_to_disk(str(tmp_path / "saved"))
    read = {}
    for name in (jsonl, tmp_path / "d.csv", tmp_path / "d.parquet", tmp_path / "saved"):
        got, prov = read_training_rows(cfg(f"dataset.name={name}"))
        assert prov["format"] == "instruction" and prov["rows_read"] == 10
        assert prov["files"] and all(len(f["sha256"]) == 64 for f in prov["files"])
        read[str(name)] = [r["messages"][-1]["content"] for r in got]
    assert len({tuple(v) for v in read.values()}) == 1


def test_max_samples_and_provenance(instr_file):
    rows, prov = read_training_rows(cfg(f"dataset.name={instr_file}", "dataset.max_samples=5"))
    assert len(rows) == 5 and prov["rows_in_source"] == 24 and prov["rows_beyond_max_samples"] == 19
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5]


def test_row_without_answer_names_file_row_and_field(tmp_path):
    rows = instruction_rows(6)
    rows[3]["output"] = ""
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(BadInputError) as exc:
        read_training_rows(cfg(f"dataset.name={path}"))
    msg = str(exc.value)
    assert str(path) in msg and "row 4" in msg and "'output'" in msg


def test_malformed_jsonl_names_the_line(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"question": "a", "answer": "b"}\n{"question": \n', encoding="utf-8")
    with pytest.raises(BadInputError, match=r"broken.jsonl:2"):
        read_training_rows(cfg(f"dataset.name={path}"))


def test_missing_file_and_unreachable_hub_dataset_are_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="not found"):
        read_training_rows(cfg(f"dataset.name={tmp_path}/nope.jsonl"))
    with pytest.raises(BadInputError, match="cannot load dataset"):
        read_training_rows(cfg("dataset.name=no-such-owner/no-such-dataset-xyz"))


def test_too_long_rows_are_counted_and_validation_held_out(tmp_path, smol_tokenizer):
    rows = instruction_rows(20)
    for i in (2, 9):
        rows[i]["output"] = "very long answer " * 200
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    data = load_training_data(cfg(f"dataset.name={path}", "training.max_seq_length=128",
                                  "dataset.validation_size=0.2"), smol_tokenizer)
    prov = data.provenance
    assert prov["rows_dropped"]["too_long"] == 2 and prov["dropped_rows"]["too_long"] == [3, 10]
    assert prov["rows_kept"] + prov["validation_rows_kept"] == 18
    assert len(prov["validation"]["rows"]) == 4
    assert len(data.train) == prov["rows_kept"] and len(data.validation) == prov["validation_rows_kept"]
    assert len(data.texts) == 20 and data.texts[0][0] == 1
    for example in data.train:
        assert len(example["input_ids"]) <= 128
        assert any(x != -100 for x in example["labels"])


def test_replay_mixes_the_requested_ratio(tmp_path, instr_file, smol_tokenizer):
    general = write_jsonl(tmp_path / "general.jsonl",
                          [{"question": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(50)])
    data = load_training_data(cfg(f"dataset.name={instr_file}", "dataset.validation_size=0",
                                  f"dataset.replay.dataset={general}", "dataset.replay.ratio=0.2"),
                              smol_tokenizer)
    prov = data.provenance
    assert prov["rows_kept"] == 24 and prov["replay_rows"] == 6  # 6 / 30 = 20 %
    assert len(data.train) == 30 and prov["replay"]["format"] == "qa"


def test_preformatted_prompt_column(tmp_path, smol_tokenizer):
    text = ("<|im_start|>user\nWhat lowers fever?<|im_end|>\n<|im_start|>assistant\n"
            "Paracetamol, with fluids and rest.<|im_end|>\n")
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": text}] * 4)
    data = load_training_data(cfg(f"dataset.name={path}", "dataset.validation_size=0"), smol_tokenizer)
    assert data.provenance["format"] == "prompt" and data.provenance["loss_on"] == "response_only"
    ex = data.train[0]
    first = next(i for i, x in enumerate(ex["labels"]) if x != -100)
    assert smol_tokenizer.decode(ex["input_ids"][first:]).startswith("Paracetamol")


def test_chat_messages_rows(tmp_path, smol_tokenizer):
    rows = [{"messages": [{"role": "user", "content": f"Q{i}"}, {"role": "assistant", "content": f"A{i}"}]}
            for i in range(3)]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    data = load_training_data(cfg(f"dataset.name={path}", "dataset.validation_size=0"), smol_tokenizer)
    assert data.provenance["format"] == "messages" and len(data.train) == 3
