"""medgate's evaluations written in lm-eval's own files, read back with lm-eval's reader code.

The results JSON and samples files are found and loaded the way lm-eval's tooling finds
them (lm_eval.utils get_results_filenames / get_latest_filename /
get_sample_results_filenames / get_file_task_name, as the EvaluationTracker's metadata
card and the Zeno visualiser do), and their numbers are compared with medgate's records
and with lm-eval's own simple_evaluate on the same file and model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from lmeval_local import QUESTIONS as SHARED_QUESTIONS
from lmeval_local import local_task, simple_evaluate

QUESTIONS = [*SHARED_QUESTIONS,
             ("Which organ secretes insulin?", ["Liver", "Kidney", "Spleen", "Pancreas"], 3)]
MMLU_SUBJECTS = ["anatomy", "college_medicine", "anatomy", "astronomy", "anatomy", "college_medicine",
                 "anatomy"]


def write_data(folder: Path) -> dict[str, str]:
    """A few items of medqa, pubmedqa and mmlu-medical (written for this test)."""
    medqa, pubmedqa, mmlu = folder / "medqa.jsonl", folder / "pubmedqa.jsonl", folder / "mmlu.jsonl"
    medqa.write_text("".join(json.dumps({"question": q, "options": dict(zip("ABCD", o)),
                                         "answer_idx": "ABCD"[a]}) + "\n" for q, o, a in QUESTIONS))
    pubmedqa.write_text("".join(
        json.dumps({"question": q, "context": f"Background {i}. " + "; ".join(o),
                    "answer": ["yes", "no", "maybe"][a % 3]}) + "\n"
        for i, (q, o, a) in enumerate(QUESTIONS)))
    mmlu.write_text("".join(json.dumps({"subject": s, "question": q, "choices": o, "answer": a})
                            + "\n" for s, (q, o, a) in zip(MMLU_SUBJECTS, QUESTIONS)))
    return {"medqa": str(medqa), "pubmedqa": str(pubmedqa), "mmlu-medical": str(mmlu)}


@pytest.fixture(scope="module")
def evaluated(tiny_model_dir, tmp_path_factory):
    """`evaluate_model` on the tiny model: the eval folder, its summary and the data."""
    from harness.app.evaluation import evaluate_model
    from harness.core.backends import open_model
    from harness.core.cache import ResultCache

    root = tmp_path_factory.mktemp("lmeval-out")
    data = write_data(root)
    handle = open_model(str(tiny_model_dir), cache=ResultCache(root / "cache"))
    eval_dir = root / "evals" / "base"
    out = evaluate_model(handle, list(data), eval_dir, data=data, progress=False)
    assert not out["failed"]
    return eval_dir, out, data


def read_like_lmeval_tooling(folder: Path) -> tuple[dict, dict[str, list[dict]]]:
    """The latest results JSON and each task's latest samples in a model folder, found with
    lm-eval's own helpers as its Zeno visualiser finds them."""
    from lm_eval.utils import (
        get_file_task_name,
        get_latest_filename,
        get_results_filenames,
        get_sample_results_filenames,
    )

    files = [p.as_posix() for p in folder.iterdir() if p.is_file()]
    latest = get_latest_filename(get_results_filenames(files))
    with open(latest, encoding="utf-8") as handle:
        results = json.load(handle)
    samples = {}
    for task in results["configs"]:
        named = [f for f in get_sample_results_filenames(files)
                 if get_file_task_name(Path(f).name) == task]
        with open(get_latest_filename(named), encoding="utf-8") as handle:
            samples[task] = [json.loads(line) for line in handle]
    return results, samples


def model_folder(eval_dir: Path) -> Path:
    folders = [p for p in (eval_dir / "lm-eval").iterdir() if p.is_dir()]
    assert len(folders) == 1
    return folders[0]


def test_results_load_with_lmeval_readers_and_acc_equals_ours(evaluated, tiny_model_dir):
    from lm_eval.utils import sanitize_model_name

    from harness.core.records import read_records, records_path

    eval_dir, out, _ = evaluated
    folder = model_folder(eval_dir)
    assert folder.name == sanitize_model_name(str(tiny_model_dir))
    results, samples = read_like_lmeval_tooling(folder)
    assert set(results["results"]) == {"medqa_4options", "pubmedqa", "mmlu_anatomy",
                                       "mmlu_college_medicine"}  # astronomy is not scored
    summary = out["summary"]
    for task, suite in [("medqa_4options", "medqa"), ("pubmedqa", "pubmedqa")]:
        assert results["results"][task]["acc,none"] == pytest.approx(
            summary[suite].metrics["accuracy"].value)
        records = read_records(records_path(eval_dir, suite))
        assert [s["acc"] for s in samples[task]] == [float(r.correct) for r in records]
        assert [s["medgate_item_id"] for s in samples[task]] == [r.item_id for r in records]
        assert results["n-samples"][task] == {"original": 7, "effective": 7}
    for subject in ("anatomy", "college_medicine"):
        task = f"mmlu_{subject}"
        assert results["results"][task]["acc,none"] == pytest.approx(
            summary["mmlu-medical"].metrics[f"accuracy.{subject}"].value)
        assert results["results"][task]["alias"] == subject  # lm-eval's task_alias
        assert all(s["doc"]["subject"] == subject for s in samples[task])
    assert results["n-samples"]["mmlu_anatomy"] == {"original": 4, "effective": 4}
    # the comparisons above carry information: the tiny model is right on some items only
    assert 0 < results["results"]["medqa_4options"]["acc,none"] < 1
    assert 0 < results["results"]["mmlu_anatomy"]["acc,none"] < 1
    # acc_norm where lm-eval's task reports it (medqa_4options), not where it does not
    assert "acc_norm,none" in results["results"]["medqa_4options"]
    assert "acc_norm,none" not in results["results"]["pubmedqa"]
    assert results["higher_is_better"]["medqa_4options"] == {"acc": True, "acc_norm": True}
    assert results["config"]["model_args"] == f"pretrained={tiny_model_dir}"
    assert results["n-shot"] == dict.fromkeys(results["results"], 0)
    # each suite's info names the lm-eval tasks it was written as
    assert summary["mmlu-medical"].info.extra["lmeval_tasks"] == ["mmlu_anatomy",
                                                                 "mmlu_college_medicine"]
    assert summary["medqa"].info.extra["lmeval_dataset"] == "GBaker/MedQA-USMLE-4-options-hf"


def test_results_load_as_lmeval_metadata_card_loads_them(evaluated):
    """EvaluationTracker.recreate_metadata_card reads the latest results with datasets."""
    from datasets import load_dataset
    from lm_eval.utils import get_latest_filename, get_results_filenames

    eval_dir, out, _ = evaluated
    files = [p.as_posix() for p in model_folder(eval_dir).iterdir()]
    latest = get_latest_filename(get_results_filenames(files))
    assert Path(latest) == out["lmeval_results"]
    row = load_dataset("json", data_files=latest, split="train")["results"][0]
    assert row["pubmedqa"]["acc,none"] == pytest.approx(
        out["summary"]["pubmedqa"].metrics["accuracy"].value)


def test_acc_stderr_is_lmeval_sample_stderr(evaluated):
    from lm_eval.api.metrics import mean_stderr, sample_stddev

    eval_dir, _, _ = evaluated
    results, samples = read_like_lmeval_tooling(model_folder(eval_dir))
    for task, entry in results["results"].items():
        accs = [s["acc"] for s in samples[task]]
        assert entry["acc_stderr,none"] == pytest.approx(mean_stderr(accs))
        n, p = len(accs), sum(accs) / len(accs)  # the sample stderr written out
        assert entry["acc_stderr,none"] == pytest.approx(
            sample_stddev(accs) / math.sqrt(n))
        assert entry["acc_stderr,none"] == pytest.approx(math.sqrt(p * (1 - p) / (n - 1)))


def run_lmeval(model_dir: Path, yaml_path: Path, data_file: Path) -> dict:
    """lm-eval's simple_evaluate on its own task YAML with the data source replaced."""
    return simple_evaluate(model_dir, [local_task(yaml_path, data_file)])


def test_acc_equals_lmeval_simple_evaluate_on_same_file(evaluated, tiny_model_dir, tmp_path):
    """medqa_4options: acc, acc_norm, their stderrs, the prompts and the choices' scores
    equal lm-eval's own run of its medqa task on the same items and model."""
    import lm_eval

    eval_dir, _, _ = evaluated
    theirs_file = tmp_path / "medqa_hf.jsonl"  # the sent1/ending form lm-eval's task reads
    theirs_file.write_text("".join(
        json.dumps({"sent1": q, **{f"ending{i}": o for i, o in enumerate(opts)}, "label": a})
        + "\n" for q, opts, a in QUESTIONS))
    expected = run_lmeval(tiny_model_dir,
                          Path(lm_eval.__file__).parent / "tasks" / "medqa" / "medqa.yaml",
                          theirs_file)
    results, samples = read_like_lmeval_tooling(model_folder(eval_dir))
    ours, theirs = results["results"]["medqa_4options"], expected["results"]["medqa_4options"]
    for key in ("acc,none", "acc_stderr,none", "acc_norm,none", "acc_norm_stderr,none"):
        assert ours[key] == pytest.approx(theirs[key]), key
    assert ours["alias"] == theirs["alias"] and ours["sample_len"] == theirs["sample_len"]
    for key in ("versions", "higher_is_better", "n-shot", "n-samples"):
        assert results[key]["medqa_4options"] == expected[key]["medqa_4options"], key
    their_samples = sorted(expected["samples"]["medqa_4options"], key=lambda s: s["doc_id"])
    for mine, other in zip(samples["medqa_4options"], their_samples, strict=True):
        assert mine["doc_id"] == other["doc_id"]
        assert mine["prompt_hash"] == other["prompt_hash"]
        assert mine["target_hash"] == other["target_hash"]
        assert [a["arg_1"] for a in mine["arguments"].values()] == [a[1] for a in other["arguments"]]
        assert [float(r[0]) for r in mine["filtered_resps"]] == pytest.approx(
            [r[0] for r in other["filtered_resps"]], abs=1e-4)
        assert mine["acc"] == other["acc"] and mine["acc_norm"] == other["acc_norm"]


def test_cloze_suite_writes_continuation_task_with_acc_norm_as_lmeval(tiny_model_dir, tmp_path):
    """`general` is mmlu_<subject>_continuation: acc and acc_norm (lm-eval's defaults for a
    task without a metric list) equal lm-eval's own continuation task's."""
    import lm_eval

    from harness.app.evaluation import evaluate_model
    from harness.core.backends import open_model

    data = tmp_path / "astronomy.jsonl"
    data.write_text("".join(json.dumps({"subject": "astronomy", "question": q, "choices": o,
                                        "answer": a}) + "\n" for q, o, a in QUESTIONS))
    out = evaluate_model(open_model(str(tiny_model_dir)), ["general"], tmp_path / "evals",
                         data={"general": str(data)}, progress=False)
    assert not out["failed"]
    results, samples = read_like_lmeval_tooling(model_folder(tmp_path / "evals"))
    yaml_path = (Path(lm_eval.__file__).parent / "tasks" / "mmlu" / "continuation"
                 / "mmlu_astronomy.yaml")
    expected = run_lmeval(tiny_model_dir, yaml_path, data)
    task = "mmlu_astronomy_continuation"
    for key in ("acc,none", "acc_stderr,none", "acc_norm,none", "acc_norm_stderr,none"):
        assert results["results"][task][key] == pytest.approx(expected["results"][task][key])
    for key in ("versions", "higher_is_better", "n-shot", "n-samples"):
        assert results[key][task] == expected[key][task], key
    # the suite's own accuracy is lm-eval's acc_norm (cloze scoring)
    assert results["results"][task]["acc_norm,none"] == pytest.approx(
        out["summary"]["general"].metrics["accuracy"].value)
    assert [s["prompt_hash"] for s in samples[task]] == [
        s["prompt_hash"] for s in sorted(expected["samples"][task], key=lambda s: s["doc_id"])]


def test_suites_that_are_not_lmeval_tasks_are_not_written():
    from suites.base import SuiteSpec
    from suites.lmeval_results import suite_task_results
    from suites.registry import get_spec

    for name in ("safety", "medqa-robust", "notes-summary", "latency"):
        assert get_spec(name).lmeval_task is None
    plain = SuiteSpec(name="x", kind="multiple_choice", description="", prompt_format="medqa")
    assert suite_task_results(plain, [], []) == []


def test_subject_task_needs_a_subject_and_task_must_exist():
    from harness.core.errors import BadInputError
    from suites.lmeval_results import lmeval_task_config, task_name
    from suites.registry import get_spec

    spec = get_spec("mmlu-medical")
    assert task_name(spec, "anatomy", "1") == "mmlu_anatomy"
    with pytest.raises(BadInputError, match="item 'q7' has no subject"):
        task_name(spec, None, "q7")
    with pytest.raises(BadInputError, match="no task 'mmlu_not_a_subject'"):
        lmeval_task_config("mmlu_not_a_subject")
    assert lmeval_task_config("medqa_4options")["metric_list"][1]["metric"] == "acc_norm"


def test_dataset_fields_name_hub_and_local_sources():
    from suites.lmeval_results import dataset_fields

    assert dataset_fields("hf:bigbio/pubmed_qa:pubmed_qa_labeled_fold0_source@validation") == {
        "dataset_path": "bigbio/pubmed_qa", "dataset_name": "pubmed_qa_labeled_fold0_source",
        "dataset_kwargs": {}, "test_split": "validation"}
    assert dataset_fields("hf:GBaker/MedQA-USMLE-4-options-hf")["test_split"] == "test"
    assert dataset_fields("/d/m.jsonl") == {"dataset_path": "json",
                                            "dataset_kwargs": {"data_files": {"test": "/d/m.jsonl"}}}


def test_manifest_hashes_lmeval_files(evaluated):
    from harness.core.manifest import artifact_hashes

    eval_dir, _, _ = evaluated
    hashes = artifact_hashes(eval_dir.parent.parent)
    written = [p for p in (eval_dir / "lm-eval").rglob("*") if p.is_file()]
    assert written and all(
        p.relative_to(eval_dir.parent.parent).as_posix() in hashes for p in written)


def test_demo_data_is_written_under_its_own_task_name_with_the_limit(tiny_model_dir, tmp_path):
    """Bundled demo data is not lm-eval's benchmark: its task is `<task>_medgate_demo`, so
    no tool takes it for medqa_4options; --limit shows as lm-eval's effective < original."""
    from harness.app.evaluation import evaluate_model
    from harness.core.backends import open_model
    from suites.registry import get_suite, make_context

    out = evaluate_model(open_model(str(tiny_model_dir)), ["medqa"], tmp_path / "evals",
                         limit=3, progress=False)
    assert not out["failed"]
    results, samples = read_like_lmeval_tooling(model_folder(tmp_path / "evals"))
    assert list(results["results"]) == ["medqa_4options_medgate_demo"]
    entry = results["results"]["medqa_4options_medgate_demo"]
    assert entry["alias"] == "medqa_4options (medgate demo data)"
    assert results["configs"]["medqa_4options_medgate_demo"]["metadata"]["medgate"]["demo"] is True
    in_file = len(get_suite("medqa").items(make_context("medqa"))[0])
    assert in_file > 3
    assert results["n-samples"]["medqa_4options_medgate_demo"] == {"original": in_file,
                                                                   "effective": 3}
    assert results["config"]["limit"] == 3
    assert [s["doc_id"] for s in samples["medqa_4options_medgate_demo"]] == [0, 1, 2]


def test_fewshot_chat_samples_carry_the_requests_that_were_scored(evaluated, tiny_model_dir,
                                                                  tmp_path):
    """With few-shot examples and a chat template, each sample's arguments are the
    requests lm-eval's task machinery built and the model scored (no delimiter before a
    choice under a chat template, as lm-eval does)."""
    from harness.app.evaluation import evaluate_model
    from harness.core.backends import open_model
    from harness.core.config import EvaluationConfig
    from suites.formats import get_format
    from suites.lmeval_tasks import task_requests
    from suites.registry import get_suite, make_context

    _, _, data = evaluated
    handle = open_model(str(tiny_model_dir))
    config = EvaluationConfig(num_fewshot=2, apply_chat_template=True, seed=7)
    out = evaluate_model(handle, ["medqa"], tmp_path / "evals", data={"medqa": data["medqa"]},
                         config=config, progress=False)
    assert not out["failed"]
    results, samples = read_like_lmeval_tooling(model_folder(tmp_path / "evals"))
    items, _ = get_suite("medqa").items(make_context("medqa", {"medqa": data["medqa"]}))
    built = task_requests(items, get_format("medqa"), num_fewshot=2,
                          chat_template=handle.apply_chat_template, seed=7)
    written = [[tuple(a.values()) for a in s["arguments"].values()] for s in samples["medqa_4options"]]
    assert written == built
    assert built[0][0][1] == "A"  # lm-eval drops the delimiter under a chat template
    assert results["n-shot"]["medqa_4options"] == 2
    assert results["configs"]["medqa_4options"]["num_fewshot"] == 2
    assert results["chat_template"] and results["fewshot_as_multiturn"] is True


def test_a_spec_naming_no_lmeval_task_is_bad_input_naming_the_spec(tmp_path):
    """A user's spec whose lmeval_task is not one of lm-eval's tasks fails the suite as bad
    input that names the spec file (the evaluator records it; the gate fails closed)."""
    from dataclasses import replace

    from harness.core.errors import BadInputError
    from harness.core.records import Record
    from suites.lmeval_results import suite_task_results
    from suites.registry import get_spec, get_suite, make_context

    data = tmp_path / "medqa.jsonl"
    data.write_text(json.dumps({"question": "q?", "options": {"A": "a", "B": "b"},
                                "answer_idx": "A"}) + "\n")
    spec = replace(get_spec("medqa"), lmeval_task="medqa_no_such_task",
                   path=tmp_path / "my-medqa.yaml")
    items, _ = get_suite("medqa").items(make_context("medqa", {"medqa": str(data)}))
    record = Record(suite="medqa", item_id=items[0].item_id, prompt="p", choice_logprobs=[-1.0, -2.0])
    with pytest.raises(BadInputError, match="my-medqa.yaml: suite 'medqa', lmeval_task: .*"
                                            "no task 'medqa_no_such_task'"):
        suite_task_results(spec, items, [record])


def test_a_suite_that_fails_on_a_rerun_leaves_no_samples_behind(tiny_model_dir, tmp_path,
                                                                monkeypatch):
    """As its records are removed, so are its lm-eval samples: nothing stale to read."""
    from harness.app.evaluation import evaluate_model
    from harness.core.backends import open_model
    from suites.benchmark import MultipleChoiceSuite

    data = write_data(tmp_path)
    handle = open_model(str(tiny_model_dir))
    suites = {"medqa": data["medqa"], "pubmedqa": data["pubmedqa"]}
    evaluate_model(handle, list(suites), tmp_path / "evals", data=suites, progress=False)
    folder = model_folder(tmp_path / "evals")
    assert len(list(folder.glob("samples_medqa_4options_*.jsonl"))) == 1

    def broken(self, model, ctx):
        if self.spec.name == "medqa":
            raise RuntimeError("scoring crashed")
        return original(self, model, ctx)

    original = MultipleChoiceSuite.run
    monkeypatch.setattr(MultipleChoiceSuite, "run", broken)
    out = evaluate_model(handle, list(suites), tmp_path / "evals", data=suites, progress=False)
    assert "scoring crashed" in out["failed"]["medqa"]
    assert not list(folder.glob("samples_medqa_4options_*.jsonl"))
    assert len(list(folder.glob("samples_pubmedqa_*.jsonl"))) == 1  # rewritten, one file
    results, _ = read_like_lmeval_tooling(folder)
    assert list(results["results"]) == ["pubmedqa"]


def test_latest_results_cover_suites_an_earlier_evaluation_finished(tiny_model_dir, tmp_path):
    """A resumed run (or a second `medgate eval` into the same folder) evaluates only some
    suites: its results file still lists the tasks whose samples the earlier one left."""
    from harness.app.evaluation import evaluate_model
    from harness.core.backends import open_model

    data = write_data(tmp_path)
    handle = open_model(str(tiny_model_dir))
    first = evaluate_model(handle, ["medqa"], tmp_path / "evals", data={"medqa": data["medqa"]},
                           progress=False)
    second = evaluate_model(handle, ["pubmedqa"], tmp_path / "evals",
                            data={"pubmedqa": data["pubmedqa"]}, progress=False)
    assert second["lmeval_results"] != first["lmeval_results"]
    results, samples = read_like_lmeval_tooling(model_folder(tmp_path / "evals"))
    assert set(results["results"]) == {"medqa_4options", "pubmedqa"}
    earlier = json.loads(Path(first["lmeval_results"]).read_text())
    for key in ("results", "configs", "n-samples", "task_hashes"):
        assert results[key]["medqa_4options"] == earlier[key]["medqa_4options"]
    assert results["results"]["medqa_4options"]["acc,none"] == pytest.approx(
        first["summary"]["medqa"].metrics["accuracy"].value)
    assert len(samples["medqa_4options"]) == 7
