"""The model card's model-index names the dataset each result was measured on.

Hub data by its id, config and split; a local file that reproduces an lm-eval task by
lm-eval's dataset, the task as config and the file and its sha256; demo data as demo
data. The card is read back with huggingface_hub's own model card parser.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from report_run_builder import build_run

from harness.core.summaries import SuiteInfo, read_summaries, write_suite_summary
from reports.model_index import dataset_entry, model_index
from reports.render import render_all

SHA = "ab" * 32


def _info(**fields) -> SuiteInfo:
    return SuiteInfo.model_validate(fields)


def test_hub_data_is_named_by_its_id_config_and_split():
    entry = dataset_entry("pubmedqa", _info(data="hf:bigbio/pubmed_qa:pubmed_qa_labeled_fold0_source"
                                                  "@validation", lmeval_tasks=["pubmedqa"]),
                          demo=False, lmeval_dataset="bigbio/pubmed_qa")
    assert entry == {"type": "bigbio/pubmed_qa", "name": "bigbio/pubmed_qa",
                     "config": "pubmed_qa_labeled_fold0_source", "split": "validation",
                     "args": None}
    plain = dataset_entry("medqa", _info(data="hf:GBaker/MedQA-USMLE-4-options-hf"), demo=False)
    assert (plain["type"], plain["config"], plain["split"]) == (
        "GBaker/MedQA-USMLE-4-options-hf", None, "test")


def test_local_file_of_an_lmeval_task_names_lmevals_dataset_task_and_the_file():
    info = _info(data="/data/medqa/test.jsonl", data_sha256=SHA, lmeval_task="medqa_4options",
                 lmeval_dataset="GBaker/MedQA-USMLE-4-options-hf", lmeval_tasks=["medqa_4options"])
    entry = dataset_entry("medqa", info, demo=False,
                          lmeval_dataset="GBaker/MedQA-USMLE-4-options-hf")
    assert entry["type"] == "GBaker/MedQA-USMLE-4-options-hf"
    assert entry["config"] == "medqa_4options"
    assert entry["args"] == {"data_file": "test.jsonl", "data_file_sha256": SHA}
    assert "local file" in entry["name"]


def test_demo_data_never_carries_a_real_datasets_name():
    info = _info(data="suites/data/medqa_demo.jsonl", data_sha256=SHA, demo=True,
                 lmeval_task="medqa_4options", lmeval_dataset="GBaker/MedQA-USMLE-4-options-hf")
    entry = dataset_entry("medqa", info, demo=True, lmeval_dataset="GBaker/MedQA-USMLE-4-options-hf")
    assert "GBaker" not in str(entry) and "MedQA-USMLE" not in str(entry)
    assert "demo" in entry["type"] and "demo data" in entry["name"]
    assert entry["args"]["demo"] is True and entry["args"]["data_file_sha256"] == SHA


def test_per_subject_metrics_are_results_on_their_lmeval_task_and_have_a_source():
    from huggingface_hub.repocard_data import model_index_to_eval_results

    info = _info(data="/d/mmlu.jsonl", data_sha256=SHA, lmeval_task="mmlu_{subject}",
                 lmeval_dataset="cais/mmlu", lmeval_tasks=["mmlu_anatomy", "mmlu_college_medicine"])
    general = _info(data="/d/general.jsonl", data_sha256="cd" * 32,
                    lmeval_task="mmlu_{subject}_continuation", lmeval_dataset="cais/mmlu",
                    lmeval_tasks=["mmlu_astronomy_continuation", "mmlu_virology_continuation"])
    rows = [{"suite": "mmlu-medical", "metric": m, "value": v, "demo": False}
            for m, v in [("accuracy", 0.5), ("accuracy.anatomy", 0.25),
                         ("accuracy.college_medicine", 0.75), ("answer_spread", 0.9)]]
    rows.append({"suite": "general", "metric": "accuracy", "value": 0.4, "demo": False})
    index = model_index("m", rows, {"mmlu-medical": info, "general": general}, run_id="run-1",
                        tag="checkpoint-4")
    results = index[0]["results"]
    by_config = {(r["task"]["name"], r["dataset"].get("config")): r for r in results}
    assert set(by_config) == {("mmlu-medical", None), ("mmlu-medical", "mmlu_anatomy"),
                              ("mmlu-medical", "mmlu_college_medicine"), ("general", None)}
    anatomy = by_config[("mmlu-medical", "mmlu_anatomy")]
    assert anatomy["dataset"]["type"] == "cais/mmlu"
    assert anatomy["metrics"] == [{"type": "accuracy.anatomy", "value": 0.25,
                                   "name": "mmlu-medical accuracy.anatomy", "verified": False}]
    # the two suites on cais/mmlu stay two results, each with its own file
    assert by_config[("general", None)]["dataset"]["args"]["data_file"] == "general.jsonl"
    assert by_config[("mmlu-medical", None)]["dataset"]["args"]["lmeval_tasks"] == [
        "mmlu_anatomy", "mmlu_college_medicine"]
    assert all(r["source"] == {"name": "medgate run run-1 (checkpoint-4)",
                               "url": "../evals/checkpoint-4/summary.json"} for r in results)
    assert not any(m["type"] == "answer_spread" for r in results for m in r["metrics"])
    name, parsed = model_index_to_eval_results(index)  # huggingface_hub accepts it
    assert name == "m" and len(parsed) == 4


def test_rendered_card_names_real_data_and_loads_with_huggingface_hub(tmp_path: Path):
    """A run whose medqa ran on a real local file, the rest on demo data: the card's
    README names lm-eval's dataset for medqa and demo data for the rest."""
    from huggingface_hub import ModelCard

    root = build_run(tmp_path / "run")
    for tag_dir in (root / "evals").iterdir():
        summaries = read_summaries(tag_dir)
        if "medqa" not in summaries:
            continue
        summary = summaries["medqa"]
        summary.info = _info(**{**summary.info.to_json(), "demo": False,
                                "data": "/data/US/test.jsonl", "data_sha256": SHA,
                                "lmeval_task": "medqa_4options",
                                "lmeval_dataset": "GBaker/MedQA-USMLE-4-options-hf",
                                "lmeval_tasks": ["medqa_4options"]})
        write_suite_summary(tag_dir, "medqa", summary)
    for records in (root / "evals").glob("*/medqa.records.jsonl"):
        records.write_text(records.read_text().replace('"demo": true', '"demo": false'))
    render_all(root)
    text = (root / "report" / "model_card.md").read_text(encoding="utf-8")
    card = ModelCard(text)
    by_task = {}
    for result in card.data.eval_results:
        by_task.setdefault(result.task_name, result)
    medqa = by_task["medqa"]
    assert (medqa.dataset_type, medqa.dataset_config) == ("GBaker/MedQA-USMLE-4-options-hf",
                                                          "medqa_4options")
    assert medqa.dataset_args == {"data_file": "test.jsonl", "data_file_sha256": SHA}
    assert medqa.source_name.startswith("medgate run ")
    others = [r for r in card.data.eval_results if r.task_name != "medqa"]
    assert others and all(r.dataset_type.startswith("medgate-demo-") for r in others)
    front = yaml.safe_load(text.split("---")[1])
    assert front["model-index"][0]["results"]


@pytest.mark.parametrize("demo", [True, False])
def test_plain_local_suite_names_its_file(demo):
    entry = dataset_entry("safety", _info(data="/x/safety.jsonl", data_sha256=SHA), demo=demo)
    assert entry["args"]["data_file"] == "safety.jsonl"
    assert ("demo" in entry["type"]) is demo
