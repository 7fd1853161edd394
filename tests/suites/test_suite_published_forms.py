"""The leaderboard benchmarks' published files and folders are read as published.

MMLU as a folder (the original release's test/ CSVs, cais/mmlu's Parquet layout), a
single Parquet file, MedMCQA's Hugging Face Parquet and its original `.json` files that
hold JSON lines; bad rows name the file and row; a folder given to a loader that reads
one file is a clear error, and exit 2 from the CLI.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from leaderboard_files import LEADERBOARD_SUBJECTS, medmcqa_rows, write_medmcqa, write_mmlu

from harness.app.cli import main
from harness.core.errors import BadInputError
from harness.core.io import file_sha256
from suites.loaders import load_items
from suites.registry import get_suite, make_context


@pytest.mark.parametrize("form", [0, 1], ids=["original_csv_folder", "cais_parquet_folder"])
def test_mmlu_folder_is_read_whole_with_subjects_from_the_layout(form, tmp_path):
    folder = write_mmlu(tmp_path)[form]
    items = load_items("mmlu", folder)
    assert sorted({i.subject for i in items}) == sorted(LEADERBOARD_SUBJECTS)
    assert len(items) == 2 * len(LEADERBOARD_SUBJECTS)
    assert len({i.item_id for i in items}) == len(items)  # unique across subjects' files
    first = items[0]
    if form == 0:
        assert first.item_id == "anatomy_test.csv:1" and first.answer == 0
    else:
        assert first.item_id == "anatomy/test-00000-of-00001.parquet[0]"
    assert first.question == "Which bone forms the point of the elbow?"
    assert first.options == ("Ulna", "Radius", "Humerus", "Scapula")


def test_mmlu_release_root_reads_the_test_split_only(tmp_path):
    test_dir, _ = write_mmlu(tmp_path)
    dev = test_dir.parent / "dev"
    dev.mkdir()
    (dev / "anatomy_dev.csv").write_text("Shot question?,a,b,c,d,A\n")
    items = load_items("mmlu", test_dir.parent)  # data/ with dev/ and test/
    assert len(items) == 2 * len(LEADERBOARD_SUBJECTS)
    assert all(i.item_id.startswith("test/") for i in items)


def test_mmlu_subjects_outside_the_suite_are_counted_not_scored(tmp_path):
    folder, _ = write_mmlu(tmp_path, extra_subject="virology")
    suite = get_suite("mmlu-medical")
    items, info = suite.items(make_context("mmlu-medical", {"mmlu-medical": str(folder)}))
    assert info["excluded_subjects"] == {"virology": 2}
    assert info["items_in_file"] == 2 * len(LEADERBOARD_SUBJECTS) + 2
    assert "virology" not in {i.subject for i in items}


def test_mmlu_single_parquet_file_and_errors_name_file_and_row(tmp_path):
    _, hub = write_mmlu(tmp_path, subjects=("anatomy",))
    path = hub / "anatomy" / "test-00000-of-00001.parquet"
    assert [i.answer for i in load_items("mmlu", path)] == [0, 1]
    bad = tmp_path / "bad.parquet"
    pd.DataFrame([{"question": "Q", "subject": "anatomy", "choices": ["a", "b", "c", "d"],
                   "answer": 1},
                  {"question": "Q2", "subject": "anatomy", "choices": ["a", "b", "c"],
                   "answer": 1}]).to_parquet(bad)
    with pytest.raises(BadInputError, match=r"bad\.parquet\[1\]: field 'choices' must have 4"):
        load_items("mmlu", bad)
    broken_csv = tmp_path / "broken" / "anatomy_test.csv"
    broken_csv.parent.mkdir()
    broken_csv.write_text("Q,a,b,c,d,A\nQ2,a,b,c,d,F\n")
    with pytest.raises(BadInputError, match=r"anatomy_test\.csv:2.*answer key 'answer'='F'"):
        load_items("mmlu", broken_csv.parent)
    not_parquet = tmp_path / "junk.parquet"
    not_parquet.write_text("not parquet")
    with pytest.raises(BadInputError, match=r"junk\.parquet: not a readable Parquet file"):
        load_items("mmlu", not_parquet)


def test_mmlu_folder_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing here")
    with pytest.raises(BadInputError, match=r"empty: no MMLU test files in the folder"):
        load_items("mmlu", empty)
    _, hub = write_mmlu(tmp_path, subjects=("anatomy", "college_medicine"))
    (hub / "all").mkdir()
    pd.read_parquet(hub / "anatomy" / "test-00000-of-00001.parquet").to_parquet(
        hub / "all" / "test-00000-of-00001.parquet")
    with pytest.raises(BadInputError, match=r"all/ \(every subject\).*twice"):
        load_items("mmlu", hub)
    assert len(load_items("mmlu", hub / "all")) == 2  # all/ alone is fine


def test_medmcqa_hf_parquet_and_original_json_lines(tmp_path):
    parquet, original = write_medmcqa(tmp_path)
    from_hub = load_items("medmcqa", parquet, {"cop_base": 0})
    from_release = load_items("medmcqa", original, {"cop_base": 1})
    assert [i.item_id for i in from_hub] == [r["id"] for r in medmcqa_rows()]
    assert [(i.item_id, i.answer, i.options) for i in from_hub] == \
        [(i.item_id, i.answer, i.options) for i in from_release]
    assert from_hub[0].meta["subject_name"] == "Medicine"
    with pytest.raises(BadInputError, match=r"validation-00000-of-00001\.parquet\[0\].*"
                                            r"'cop'=0 is outside 1\.\.4"):
        load_items("medmcqa", parquet, {"cop_base": 1})
    broken = tmp_path / "train.json"
    broken.write_text(json.dumps(medmcqa_rows()[0]) + "\n{broken\n")
    with pytest.raises(BadInputError, match=r"train\.json:2: broken JSON line"):
        load_items("medmcqa", broken)


def test_a_json_document_is_still_read_as_one(tmp_path):
    doc = tmp_path / "rows.json"
    doc.write_text(json.dumps(medmcqa_rows()[:2], indent=2))
    assert [i.item_id for i in load_items("medmcqa", doc)] == ["mcqa-0000", "mcqa-0001"]


@pytest.mark.parametrize("loader", ["medqa", "pubmedqa", "medmcqa"])
def test_a_folder_for_a_single_file_loader_is_a_clear_error(loader, tmp_path):
    with pytest.raises(BadInputError, match=rf"loader '{loader}' reads one data file, not a "
                                            "folder: pass the file itself"):
        load_items(loader, tmp_path)


def test_cli_folder_for_a_file_suite_exits_2(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path / "cache"))
    code = main(["eval", "--model", str(tiny_model_dir), "--suites", "medqa",
                 "--data", f"medqa={tmp_path}", "--run-dir", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "reads one data file, not a folder" in err and "Traceback" not in err


def test_folder_sha256_changes_with_any_file(tmp_path):
    folder, _ = write_mmlu(tmp_path, subjects=("anatomy", "college_medicine"))
    before = file_sha256(folder)
    assert before == file_sha256(folder)
    (folder / "anatomy_test.csv").write_text("Q,a,b,c,d,B\n")
    edited = file_sha256(folder)
    (folder / "anatomy_test.csv").rename(folder / "anatomy2_test.csv")
    assert len({before, edited, file_sha256(folder)}) == 3
