"""Inputs the fuzz tests found breaking a loader, the config or the training-data reader.

Each case once ended in a bare exception, a silently changed text or a valid file refused;
each now ends in a BadInputError naming file and line, or in the exact items written.
"""

from __future__ import annotations

import json

import pytest

from finetune.datasets import read_training_rows
from harness.core.config import load_config
from harness.core.errors import BadInputError
from suites.loaders import load_items

MEDQA_ROW = {"question": "q", "options": {"A": "a", "B": "b"}, "answer_idx": "A"}


def _write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def test_jsonl_keeps_line_separator_characters_inside_strings(tmp_path):
    texts = ["q\u2028x", "q\x0cx", "q\x85x", "q\x1cx"]
    lines = [json.dumps({**MEDQA_ROW, "question": t, "id": str(i)}, ensure_ascii=False)
             for i, t in enumerate(texts)]
    path = _write(tmp_path, "m.jsonl", "\n".join(lines) + "\n")
    assert [i.question for i in load_items("medqa", path)] == texts


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
@pytest.mark.parametrize("body", ["[" * 50_000 + "]" * 50_000,
                                  '{"question": ' + "7" * 5000 + "}"])
def test_deep_nesting_and_huge_numbers_are_bad_input(tmp_path, suffix, body):
    path = _write(tmp_path, "m" + suffix, body)
    with pytest.raises(BadInputError, match=r"m\.json"):
        load_items("medqa", path)


def _assert_bad_input(tmp_path, loader: str, name: str, content: str, match: str) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(BadInputError, match=match):
        load_items(loader, path)


def _assert_row_is_bad_input(tmp_path, loader: str, row: dict, match: str) -> None:
    _assert_bad_input(tmp_path, loader, "m.jsonl", json.dumps(row), match)


def test_more_than_26_listed_options_is_bad_input(tmp_path):
    _assert_row_is_bad_input(tmp_path, "medqa", {**MEDQA_ROW, "options": ["o"] * 27},
                             r"m\.jsonl:1: field 'options' has 27")


def test_medmcqa_cop_of_unhashable_type_is_bad_input(tmp_path):
    row = {"question": "q", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": [1]}
    _assert_row_is_bad_input(tmp_path, "medmcqa", row, r"m\.jsonl:1: field 'cop'")


def test_medmcqa_csv_reads_cop_digits(tmp_path):
    path = _write(tmp_path, "m.csv", "question,opa,opb,opc,opd,cop\nq1,a,b,c,d,4\nq2,a,b,c,d,1\n")
    items = load_items("medmcqa", path, {"cop_base": 1})
    assert [i.answer for i in items] == [3, 0]


@pytest.mark.parametrize("answer", ["²", "٣", "9" * 5000])
def test_mmlu_answer_of_unicode_digits_is_bad_input(tmp_path, answer):
    row = {"question": "q", "choices": ["a", "b", "c", "d"], "answer": answer, "subject": "s"}
    _assert_row_is_bad_input(tmp_path, "mmlu", row, r"m\.jsonl:1: answer key 'answer'")


def test_csv_with_byte_order_mark_and_multiline_fields_keeps_text(tmp_path):
    path = _write(tmp_path, "anatomy_test.csv", '\ufeff"q\r\nline 2",a,b,c,d,A\n"x\x0cy",a,b,c,d,B\n')
    items = load_items("mmlu", path)
    assert [i.question for i in items] == ["q\r\nline 2", "x\x0cy"]
    header = _write(tmp_path, "h.csv", "\ufeffquestion,A,B,C,D,answer,subject\nq,a,b,c,d,A,s\n")
    assert load_items("mmlu", header)[0].question == "q"


def test_csv_row_with_surplus_cells_is_bad_input(tmp_path):
    _assert_bad_input(tmp_path, "medmcqa", "m.csv", "question,opa,opb,opc,opd,cop\nq, x,a,b,c,d,1\n",
                      r"m\.csv:2: 7 cells but the header has 6")


def test_csv_field_over_the_csv_size_limit_is_bad_input(tmp_path):
    _assert_bad_input(tmp_path, "medmcqa", "m.csv",
                      "question,opa,opb,opc,opd,cop\n" + "q" * 200_000 + ",a,b,c,d,1\n",
                      r"m\.csv:2: broken CSV")


@pytest.mark.parametrize("content", ["", "\n\n", "[]", "{}"])
def test_file_without_items_is_bad_input(tmp_path, content):
    path = _write(tmp_path, "m.json" if content in ("[]", "{}") else "m.jsonl", content)
    with pytest.raises(BadInputError, match=r"m\.jsonl?: no items"):
        load_items("medqa", path)


def test_config_path_that_is_a_folder_is_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="cannot read config file"):
        load_config(tmp_path)


@pytest.mark.parametrize("document", ["training:\n  seed: " + "9" * 5000 + "\n",
                                      "model:\n  name: 2020-13-45\n",
                                      "a: " + "[" * 20_000 + "]" * 20_000 + "\n"])
def test_config_values_yaml_cannot_build_are_bad_input(tmp_path, document):
    path = _write(tmp_path, "medgate.yaml", document)
    with pytest.raises(BadInputError, match=r"medgate\.yaml.*not valid YAML"):
        load_config(path)


@pytest.mark.parametrize("value", ["[" * 20_000, "2020-13-45", "9" * 5000])
def test_set_values_yaml_cannot_build_are_bad_input(value):
    with pytest.raises(BadInputError, match="--set value"):
        load_config(None, [f"model.name={value}"])


@pytest.mark.parametrize("assignment", ["training.num_epochs=.inf", "training.learning_rate=.nan",
                                        "dataset.validation_size=-.inf"])
def test_config_refuses_infinity_and_nan(assignment):
    key = assignment.split("=")[0]
    with pytest.raises(BadInputError, match=f"key '{key}'"):
        load_config(None, [assignment])


def _training_rows(path):
    return read_training_rows(load_config(None, [f"dataset.name={path}"]))[0]


def test_training_csv_keeps_cells_that_look_like_missing_values_or_numbers(tmp_path):
    path = _write(tmp_path, "t.csv", 'question,answer\nWhat?,NA\nWhy?,None\nDose?,007\n"a\r\nb",1.50\n')
    rows = _training_rows(path)
    assert [r["messages"][-1]["content"] for r in rows] == ["NA", "None", "007", "1.50"]
    assert rows[-1]["messages"][-2]["content"] == "a\r\nb"


def test_training_csv_row_with_surplus_cells_is_bad_input(tmp_path):
    path = _write(tmp_path, "t.csv", "question,answer\nq,a,b\n")
    with pytest.raises(BadInputError, match=r"t\.csv: row 1: 3 cells but the header has 2"):
        _training_rows(path)


@pytest.mark.parametrize("body", ["[" * 50_000, '{"question": ' + "7" * 5000 + "}", "", "\n \n"])
def test_training_jsonl_unreadable_or_empty_is_bad_input_naming_the_line(tmp_path, body):
    path = _write(tmp_path, "t.jsonl", '{"question": "q", "answer": "a"}\n' + body)
    if not body.strip():
        path = _write(tmp_path, "t.jsonl", body)
    with pytest.raises(BadInputError, match=r"t\.jsonl(:2: not valid JSON|: no rows)"):
        _training_rows(path)


def test_training_jsonl_with_byte_order_mark_is_read(tmp_path):
    path = _write(tmp_path, "t.jsonl", '\ufeff{"question": "q", "answer": "{{ 7*7 }}"}\n')
    assert _training_rows(path)[0]["messages"][-1]["content"] == "{{ 7*7 }}"


def test_medqa_endings_csv_reads_label_digits_and_refuses_others(tmp_path):
    path = _write(tmp_path, "e.csv", "sent1,ending0,ending1,label\nq,a,b,1\n")
    assert load_items("medqa", path)[0].answer == 1
    for bad in ("x", "9" * 5000, "²"):
        path = _write(tmp_path, "e.csv", f"sent1,ending0,ending1,label\nq,a,b,{bad}\n")
        with pytest.raises(BadInputError, match=r"e\.csv:2: field 'label'"):
            load_items("medqa", path)


def test_medmcqa_cop_of_5000_digits_is_bad_input(tmp_path):
    _assert_bad_input(tmp_path, "medmcqa", "m.csv",
                      "question,opa,opb,opc,opd,cop\nq,a,b,c,d," + "9" * 5000 + "\n",
                      r"m\.csv:2: answer key 'cop'")


def test_training_file_of_unknown_row_shape_names_the_file(tmp_path):
    path = _write(tmp_path, "t.jsonl", '{"text": "no known columns"}\n')
    with pytest.raises(BadInputError, match=r"t\.jsonl: cannot tell the row format"):
        _training_rows(path)


def test_medqa_ending_after_a_gap_is_bad_input_not_left_out(tmp_path):
    row = {"sent1": "q", "ending0": "a", "ending1": "b", "ending3": "d", "label": 0}
    path = _write(tmp_path, "e.jsonl", json.dumps(row))
    with pytest.raises(BadInputError, match=r"e\.jsonl:1: field\(s\) \['ending3'\]"):
        load_items("medqa", path)


@pytest.mark.parametrize("content", ["prompt\r\n   \r\nkey\r\n", "question,answer\nq,a\n \t \nq2,a2\n"])
def test_training_csv_line_of_spaces_is_bad_input_not_skipped(tmp_path, content):
    path = _write(tmp_path, "t.csv", content)
    with pytest.raises(BadInputError, match=r"t\.csv: row \d: a line of only spaces"):
        _training_rows(path)


@pytest.mark.parametrize("depth", [101, 2000])
def test_config_flow_nesting_is_refused_before_the_yaml_scanner(tmp_path, depth):
    """PyYAML's scanner is quadratic in open brackets: 2000 took seconds to fail."""
    path = _write(tmp_path, "medgate.yaml", "model:\n  name: " + "[" * depth + "\n")
    with pytest.raises(BadInputError, match=r"medgate\.yaml: .*nested more than 100"):
        load_config(path)
    with pytest.raises(BadInputError, match="--set value: .*nested more than 100"):
        load_config(None, ["model.name=" + "[" * depth])
    assert load_config(None, ["evaluation.suites=" + "[" * 1 + "medqa]"]).evaluation.suites == ["medqa"]
