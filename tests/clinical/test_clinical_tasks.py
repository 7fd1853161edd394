"""Clinical suites on fixed outputs: BIO and span files agree, negation, parsing, errors,
hallucinated entities per item, readability, and templates shared by training and test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import textstat
from seqeval.metrics import f1_score

from finetune.formatting import row_to_example
from harness.app.cli import main
from harness.core.errors import BadInputError
from suites.base import RunContext
from suites.clinical.extraction import gold_answer
from suites.clinical.lexicon import unsupported
from suites.clinical.ner import parse_entities
from suites.clinical.ner_data import read_bio, read_spans
from suites.metrics import compute_metrics
from suites.registry import get_suite, make_context

DATA = Path(__file__).resolve().parents[2] / "suites" / "data"
TYPES = ["DISEASE", "SYMPTOM", "MEDICATION", "PROCEDURE"]


class FixedModel:
    """Answers each prompt with a function of it (no model)."""

    backend, device = "fixed", "cpu"

    def __init__(self, answer):
        self.answer = answer

    def generate(self, prompts, settings):
        return [self.answer(p) for p in prompts]


def _imperfect_extractor(notes):
    """Gold entities of each note with every third one dropped and a wrong one added."""
    answers = {}
    for i, note in enumerate(notes):
        lines = gold_answer(note).splitlines()
        kept = [x for j, x in enumerate(lines) if (i + j) % 3]
        answers[note.text] = "\n".join(kept + ["MEDICATION: warfarin", "Entities:"])
    return answers


def _run(name, data, answer):
    suite = get_suite(name)
    ctx = make_context(name, {name: str(data)} if data else None)
    return suite.run(FixedModel(answer), ctx)


def test_bio_file_and_span_jsonl_of_the_same_notes_give_the_same_entity_f1():
    bio, spans = read_bio(DATA / "clinical_ner_demo.bio"), read_spans(DATA / "clinical_ner_demo.jsonl")
    assert [n.tags for n in bio] == [n.tags for n in spans]
    answers = _imperfect_extractor(spans)
    by_text = {" ".join(w for w, _, _ in n.tokens): a for n, a in zip(spans, answers.values())}

    def answer(prompt):
        return next(a for text, a in by_text.items() if " ".join(text.split()) in
                    " ".join(prompt.split()) or text in prompt)

    from_spans = _run("clinical-ner", DATA / "clinical_ner_demo.jsonl",
                      lambda p: next(a for t, a in answers.items() if t in p))
    from_bio = _run("clinical-ner", DATA / "clinical_ner_demo.bio", answer)
    a, b = from_spans.metrics, from_bio.metrics
    assert 0.3 < a["entity_f1"].value < 0.95
    for key in ("entity_f1", "entity_precision", "entity_recall", "entity_f1_partial",
                "entity_f1.disease", "parse_failure_rate"):
        assert a[key].value == pytest.approx(b[key].value), key
    # the reported F1 is seqeval's, and the per-note counts behind the CI reproduce it
    recs = from_spans.records
    y_true = [r.labels["gold_tags"] + ["O"] * len(r.labels["missing_types"]) for r in recs]
    y_pred = [r.labels["pred_tags"] + [f"B-{t}" for t in r.labels["missing_types"]] for r in recs]
    assert a["entity_f1"].value == pytest.approx(f1_score(y_true, y_pred))
    assert a["entity_f1"].extra["fp"] == 30  # one invented warfarin per note
    assert a["parse_failure_rate"].value == 1.0 and a["parse_failure_rate"].extra["lines"] == 30


def test_parsing_is_tolerant_of_form_but_never_invents():
    parsed = parse_entities("1. **Disease**: pneumonia\n- drugs - amoxicillin, clarithromycin\n"
                            "Symptoms: none\nThe patient is unwell\nFOO: bar", TYPES)
    assert parsed.entities == [("DISEASE", "pneumonia"), ("MEDICATION", "amoxicillin"),
                               ("MEDICATION", "clarithromycin")]
    assert parsed.failures == ["The patient is unwell", "FOO: bar"]


def test_partial_matching_credits_overlapping_spans_of_the_right_type_only(tmp_path):
    path = tmp_path / "n.jsonl"
    text = "Known type 2 diabetes, started metformin."
    path.write_text(json.dumps({"id": "a", "text": text, "entities": [
        {"start": 6, "end": 21, "type": "DISEASE"},
        {"start": 31, "end": 40, "type": "MEDICATION"}]}) + "\n")
    result = _run("clinical-ner", path, lambda p: "DISEASE: diabetes\nDISEASE: metformin")
    m = result.metrics
    assert m["entity_f1"].value == 0.0
    assert m["entity_f1_partial"].value == pytest.approx(0.5)  # diabetes overlaps; metformin's type is wrong


@pytest.mark.parametrize("output, source, unsupported_keys", [
    ("Small pneumothorax.", "No pneumothorax. No pleural effusion.", [("pneumothorax", False)]),
    ("Pleural effusion.", "There is no evidence of pleural effusion.", [("pleural effusion", False)]),
    ("Pneumothorax is present.", "Pneumothorax has been excluded.", [("pneumothorax", False)]),
    ("No pneumothorax.", "No pneumothorax.", []),
    ("The pulmonary oedema is not present.", "No pulmonary oedema.", []),
    ("Pulmonary oedema.", "Pulmonary oedema is not seen.", [("pulmonary edema", False)]),
    ("No cardiomegaly.", "Cardiomegaly.", [("cardiomegaly", True)]),
    ("Heart attack.", "Known MI.", []),
    ("Left effusion; no pneumothorax.", "Pleural effusion on the left but no pneumothorax.", []),
    ("Cardiomegaly.", "No pneumothorax, effusion or consolidation. Cardiomegaly.", []),
])
def test_an_output_asserting_what_the_input_negates_is_unsupported(output, source,
                                                                   unsupported_keys):
    _, missing = unsupported(output, source)
    assert [m.key for m in missing] == unsupported_keys


def test_report_records_list_each_unsupported_entity(tmp_path):
    path = tmp_path / "r.jsonl"
    rows = [{"id": "r1", "findings": "No pneumothorax. Small left pleural effusion.",
             "impression": "Small left pleural effusion."},
            {"id": "r2", "findings": "Cardiomegaly. No consolidation.", "impression": "Cardiomegaly."}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    answers = {"r1": "Small left pleural effusion and a pneumothorax.", "r2": "Cardiomegaly."}
    result = _run("clinical-report", path,
                  lambda p: answers["r1" if "pneumothorax" in p else "r2"])
    labels = {r.item_id: r.labels for r in result.records}
    assert labels["r1"]["unsupported_entities"] == ["pneumothorax (disease)"]
    assert labels["r2"]["unsupported_entities"] == []
    rate = result.metrics["hallucination_rate"]
    assert rate.value == pytest.approx(1 / 3) and rate.extra["unsupported"] == 1


def test_patient_education_readability_length_and_disclaimer(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps({"id": "e1", "condition": "sepsis", "critical": True}) + "\n"
                    + json.dumps({"id": "e2", "condition": "eczema", "critical": False}) + "\n"
                    + json.dumps({"id": "e3", "condition": "gout"}) + "\n")
    simple = "It is a bad infection. Call emergency services now."
    hard = ("Eczema constitutes a chronic relapsing inflammatory dermatological condition "
            "characterised by epidermal barrier dysfunction and immunological dysregulation.")
    answers = {"sepsis": simple, "eczema": hard, "gout": ""}
    result = _run("clinical-education", path,
                  lambda p: next(a for c, a in answers.items() if c in p))
    labels = {r.item_id: r.labels for r in result.records}
    assert labels["e1"]["disclaimer"] is True and labels["e1"]["fk_grade"] < 8
    assert labels["e2"]["fk_grade"] > 12
    m = result.metrics
    assert "fk_grade" not in labels["e3"] and labels["e3"]["words"] == 0
    assert m["readability_target_rate"].value == pytest.approx(1 / 3)  # empty misses it
    assert m["fk_grade"].n == 2
    assert m["critical_disclaimer_rate"].value == 1.0 and m["critical_disclaimer_rate"].n == 1
    assert m["answer_words"].value == pytest.approx(
        (textstat.lexicon_count(simple) + textstat.lexicon_count(hard)) / 3)


def test_training_rows_and_suite_prompts_come_from_the_same_template(tmp_path):
    records = tmp_path / "records.jsonl"
    report = {"id": "x1", "task": "radiology_impression",
              "findings": "No pneumothorax. Cardiomegaly.", "impression": "Cardiomegaly."}
    records.write_text(json.dumps(report) + "\n")
    out = tmp_path / "train.jsonl"
    assert main(["data", "--records", str(records), "--out", str(out)]) == 0
    row = json.loads(out.read_text())
    example = row_to_example(row, "instruction", row_no=0, where="t", system_prompt=None)
    suite_data = tmp_path / "eval.jsonl"
    suite_data.write_text(json.dumps(report) + "\n")
    [record] = _run("clinical-report", suite_data, lambda p: "Cardiomegaly.").records
    assert example.messages[0]["content"] == record.prompt
    assert example.messages[1]["content"] == "Cardiomegaly."


def test_data_command_names_the_record_line_and_missing_field(tmp_path, capsys):
    records = tmp_path / "records.jsonl"
    records.write_text(json.dumps({"task": "patient_education", "condition": "gout",
                                   "answer": "A sore joint."}) + "\n"
                       + json.dumps({"task": "treatment", "answer": "x"}) + "\n")
    assert main(["data", "--records", str(records), "--out", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert f"{records}:2" in err and "'condition'" in err


def test_a_bad_bio_tag_exits_2_naming_file_line_and_field(tmp_path, tiny_model_dir, capsys):
    bio = tmp_path / "bad.bio"
    bio.write_text("# id = n1\nFever\tB-SYMPTOM\nand\tO\ncough\tX-SYMPTOM\n")
    code = main(["eval", "--model", str(tiny_model_dir), "--suites", "clinical-ner",
                 "--data", f"clinical-ner={bio}", "--run-dir", str(tmp_path / "run")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert f"{bio}:4" in err and "field 'tag'" in err and "X-SYMPTOM" in err


def test_a_span_past_the_text_exits_2_naming_file_line_and_field(tmp_path, tiny_model_dir,
                                                                 capsys):
    spans = tmp_path / "bad.jsonl"
    spans.write_text(json.dumps({"id": "a", "text": "Fever.", "entities": []}) + "\n"
                     + json.dumps({"id": "b", "text": "Cough.", "entities": [
                         {"start": 0, "end": 40, "type": "SYMPTOM"}]}) + "\n")
    code = main(["eval", "--model", str(tiny_model_dir), "--suites", "clinical-ner",
                 "--data", f"clinical-ner={spans}", "--run-dir", str(tmp_path / "run")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert f"{spans}:2" in err and "entities[0].end" in err


def test_metrics_recompute_from_records_alone():
    result = _run("clinical-ner", None, lambda p: "DISEASE: pneumonia")
    again = compute_metrics(list(result.info["metrics"]), result.records,
                            options=result.info["metric_options"], seed=result.info["metric_seed"])
    assert again["entity_f1"].value == result.metrics["entity_f1"].value
    assert isinstance(make_context("clinical-ner"), RunContext)
    with pytest.raises(BadInputError):
        read_spans(DATA / "clinical_ner_demo.bio")


def test_the_overlap_check_flags_training_rows_built_from_the_suites_items(tmp_path):
    from finetune.formatting import row_to_example as to_example
    from harness.app.preflight.overlap import find_overlap
    from suites.registry import eval_item_texts

    out = tmp_path / "leak.jsonl"
    assert main(["data", "--records", str(DATA / "clinical_ner_demo.jsonl"), "--task",
                 "entity_extraction", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    train = [(i, to_example(r, "instruction", row_no=i, where="t", system_prompt=None).text)
             for i, r in enumerate(rows)]
    leaked = find_overlap(train, {"clinical-ner": eval_item_texts("clinical-ner")})
    assert len(leaked["clinical-ner"]["items"]) == 30
    bundled = DATA / "clinical_records_demo.jsonl"
    assert main(["data", "--records", str(bundled), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    train = [(i, to_example(r, "instruction", row_no=i, where="t", system_prompt=None).text)
             for i, r in enumerate(rows)]
    suites = ("clinical-ner", "clinical-report", "clinical-education")
    clean = find_overlap(train, {s: eval_item_texts(s) for s in suites})
    assert all(clean[s]["items"] == [] for s in suites)
