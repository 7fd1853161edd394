"""Loaders read every real format, and bad data names file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core.errors import BadInputError
from suites.loaders import load_items


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


MEDQA4 = {"question": "A 30-year-old presents with fever. Next step?", "answer": "Blood cultures",
          "options": {"A": "Discharge", "B": "Blood cultures", "C": "MRI", "D": "Surgery"},
          "meta_info": "step1", "answer_idx": "B"}


def test_medqa_four_and_five_options(tmp_path):
    five = {**MEDQA4, "options": {**MEDQA4["options"], "E": "Observe"}}
    items = load_items("medqa", write_jsonl(tmp_path / "m.jsonl", [MEDQA4, five]))
    assert [len(i.options) for i in items] == [4, 5]
    assert items[0].answer == 1 and items[0].options[1] == "Blood cultures"
    assert items[0].item_id == "m.jsonl:1"


def test_medqa_endings_form(tmp_path):
    row = {"id": "q1", "sent1": "Which drug?", "sent2": "", "ending0": "a", "ending1": "b",
           "ending2": "c", "ending3": "d", "label": 3}
    (item,) = load_items("medqa", write_jsonl(tmp_path / "m.jsonl", [row]))
    assert item.item_id == "q1" and item.answer == 3 and item.options == ("a", "b", "c", "d")


@pytest.mark.parametrize("row, needle", [
    ({**MEDQA4, "answer_idx": "F"}, "answer key 'answer_idx'='F' is not among the options"),
    ({k: v for k, v in MEDQA4.items() if k != "question"}, "missing field 'question'"),
    ({**MEDQA4, "answer": "MRI"}, "field 'answer'"),
    ({"sent1": "q", "ending0": "a", "ending1": "b", "label": 5}, "answer key 'label'=5"),
])
def test_medqa_bad_rows_name_file_line_field(tmp_path, row, needle):
    path = write_jsonl(tmp_path / "bad.jsonl", [MEDQA4, row])
    with pytest.raises(BadInputError) as exc:
        load_items("medqa", path)
    assert f"{path}:2" in str(exc.value) and needle in str(exc.value)


def test_broken_json_line(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [MEDQA4, MEDQA4, '{"question": "x", '])
    with pytest.raises(BadInputError, match=r"bad\.jsonl:3: broken JSON line"):
        load_items("medqa", path)


def test_missing_file(tmp_path):
    with pytest.raises(BadInputError, match="not found"):
        load_items("medqa", tmp_path / "nope.jsonl")


ORI = {"QUESTION": "Does X reduce Y?", "CONTEXTS": ["Background.", "Results."],
       "LABELS": ["BACKGROUND", "RESULTS"], "LONG_ANSWER": "Yes.", "final_decision": "yes"}


def test_pubmedqa_ori_pqal(tmp_path):
    path = tmp_path / "ori_pqal.json"
    path.write_text(json.dumps({"12345": ORI, "678": {**ORI, "final_decision": "maybe"}}))
    items = load_items("pubmedqa", path)
    assert [i.item_id for i in items] == ["12345", "678"]
    assert items[0].context == "Background.\nResults." and items[1].answer == 2


def test_pubmedqa_hf_forms_and_flat(tmp_path):
    bigbio = {**ORI, "id": "b1"}
    pqa = {"pubid": 99, "question": "Q?", "context": {"contexts": ["c1", "c2"], "labels": []},
           "long_answer": "", "final_decision": "no"}
    flat = {"id": "f1", "question": "Q?", "context": "an abstract", "answer": "Maybe"}
    items = load_items("pubmedqa", write_jsonl(tmp_path / "p.jsonl", [bigbio, pqa, flat]))
    assert [i.item_id for i in items] == ["b1", "99", "f1"]
    assert [i.answer for i in items] == [0, 1, 2]
    assert items[1].context == "c1\nc2"


def test_pubmedqa_bad_label(tmp_path):
    path = tmp_path / "ori_pqal.json"
    path.write_text(json.dumps({"1": {**ORI, "final_decision": "perhaps"}}))
    with pytest.raises(BadInputError, match=r"ori_pqal\.json\[1\].*final_decision.*not among"):
        load_items("pubmedqa", path)


MEDMCQA = {"id": "a", "question": "Q?", "opa": "1", "opb": "2", "opc": "3", "opd": "4",
           "cop": 0}


def test_medmcqa_reads_cop_by_the_declared_base(tmp_path):
    row = MEDMCQA
    zero = write_jsonl(tmp_path / "z.jsonl", [{**row, "cop": 1}, {**row, "id": "b", "cop": 3}])
    assert [i.answer for i in load_items("medmcqa", zero)] == [1, 3]  # default: 0-based
    assert [i.answer for i in load_items("medmcqa", zero, {"cop_base": 0})] == [1, 3]
    # the same file under base 1 means the options one earlier: the base is never guessed
    assert [i.answer for i in load_items("medmcqa", zero, {"cop_base": 1})] == [0, 2]
    one = write_jsonl(tmp_path / "o.jsonl", [{**row, "cop": 4}, {**row, "id": "b", "cop": "1"}])
    items = load_items("medmcqa", one, {"cop_base": 1})
    assert [i.answer for i in items] == [3, 0] and items[0].meta["cop_index_base"] == 1
    with pytest.raises(BadInputError, match="missing field 'opc'"):
        load_items("medmcqa", write_jsonl(tmp_path / "bad.jsonl",
                                          [{k: v for k, v in row.items() if k != "opc"}]))


@pytest.mark.parametrize("base, cop, line, told", [
    (0, 4, 2, "cop_base: 1"),  # a 1-based file read as the default 0-based
    (1, 0, 2, "cop_base: 0"),  # a 0-based file declared 1-based
    (0, "B", 2, "cop_base: 1"),
    (1, 2.0, 2, "cop_base: 0"),
    (0, True, 2, "cop_base: 1"),
])
def test_medmcqa_cop_outside_the_declared_base_names_file_row_field_and_option(
        tmp_path, base, cop, line, told):
    path = write_jsonl(tmp_path / "m.jsonl", [{**MEDMCQA, "cop": 1},
                                              {**MEDMCQA, "id": "b", "cop": cop}])
    with pytest.raises(BadInputError) as info:
        load_items("medmcqa", path, {"cop_base": base})
    message = str(info.value)
    assert f"m.jsonl:{line}" in message and "'cop'" in message
    assert told in message and "evaluation.suite_options.medmcqa.cop_base" in message


def test_medmcqa_cop_base_is_a_suite_option_of_medmcqa_only():
    from suites.registry import effective_options

    assert effective_options("medmcqa") == {"cop_base": 0}  # the spec states the default
    assert effective_options("medmcqa", {"cop_base": 1}) == {"cop_base": 1}
    for bad in (2, True, "1", 1.0):
        with pytest.raises(BadInputError, match="medmcqa.cop_base"):
            effective_options("medmcqa", {"cop_base": bad})
    with pytest.raises(BadInputError, match="no option 'cop_base'"):
        effective_options("medqa", {"cop_base": 1})


def test_medmcqa_suite_reads_its_file_with_the_run_option(tmp_path):
    from suites.registry import eval_item_texts, get_suite, make_context

    path = write_jsonl(tmp_path / "orig.jsonl", [{**MEDMCQA, "cop": 4}])
    with pytest.raises(BadInputError, match="cop_base: 1"):
        eval_item_texts("medmcqa", str(path))
    assert [i for i, _ in eval_item_texts("medmcqa", str(path), {"cop_base": 1})] == ["a"]
    ctx = make_context("medmcqa", {"medmcqa": str(path)}, {"cop_base": 1})
    items, _ = get_suite("medmcqa", ctx.options).items(ctx)
    assert items[0].answer == 3


def test_mmlu_forms(tmp_path):
    hf = {"subject": "anatomy", "question": "Q1", "choices": ["a", "b", "c", "d"], "answer": 2}
    letter = {"subject": "virology", "question": "Q2", "A": "a", "B": "b", "C": "c", "D": "d",
              "answer": "D"}
    items = load_items("mmlu", write_jsonl(tmp_path / "m.jsonl", [hf, letter]))
    assert [(i.subject, i.answer) for i in items] == [("anatomy", 2), ("virology", 3)]
    csv_path = tmp_path / "college_medicine_test.csv"
    csv_path.write_text('"What, exactly?",a,b,c,d,B\nQ,a,b,c,d,A\n')
    items = load_items("mmlu", csv_path)
    assert items[0].question == "What, exactly?" and items[0].subject == "college_medicine"
    with pytest.raises(BadInputError, match=r"m2\.jsonl:1.*answer key 'answer'=7"):
        load_items("mmlu", write_jsonl(tmp_path / "m2.jsonl", [{**hf, "answer": 7}]))
    with pytest.raises(BadInputError, match=r"m3\.jsonl:1: missing field 'subject'"):
        load_items("mmlu", write_jsonl(tmp_path / "m3.jsonl",
                                       [{k: v for k, v in hf.items() if k != "subject"}]))


def test_text_loaders(tmp_path):
    notes = load_items("notes", write_jsonl(tmp_path / "n.jsonl",
                                            [{"id": "n1", "note": "BP 120/80.", "summary": "Stable."}]))
    assert "BP 120/80." in notes[0].prompt and notes[0].reference == "Stable."
    with pytest.raises(BadInputError, match="missing field 'summary'"):
        load_items("notes", write_jsonl(tmp_path / "n2.jsonl", [{"id": "n1", "note": "x"}]))


def test_duplicate_ids(tmp_path):
    with pytest.raises(BadInputError, match="duplicate item id 'x'"):
        load_items("medqa", write_jsonl(tmp_path / "d.jsonl", [{**MEDQA4, "id": "x"},
                                                               {**MEDQA4, "id": "x"}]))


def test_hub_source_goes_through_the_same_parser(monkeypatch):
    import datasets

    calls = {}

    def fake_load_dataset(name, config=None, split=None):
        calls.update(name=name, config=config, split=split)
        return [{"sent1": "Q?", "ending0": "a", "ending1": "b", "ending2": "c", "ending3": "d",
                 "label": 2}, {"sent1": "Q2?", "ending0": "a", "ending1": "b", "label": 9}]

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    with pytest.raises(BadInputError, match=r"hf:GBaker/MedQA-USMLE-4-options-hf@test\[1\].*label"):
        load_items("medqa", "hf:GBaker/MedQA-USMLE-4-options-hf@test")
    assert calls == {"name": "GBaker/MedQA-USMLE-4-options-hf", "config": None, "split": "test"}

    def unreachable(*args, **kwargs):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    with pytest.raises(BadInputError, match="cannot load hub dataset.*--data SUITE=PATH"):
        load_items("pubmedqa", "hf:bigbio/pubmed_qa:pubmed_qa_labeled_fold0_source")
