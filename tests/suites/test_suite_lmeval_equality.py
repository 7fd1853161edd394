"""Per-item predictions of medgate equal those of lm-eval's own task YAML on the same file.

lm-eval's medqa_4options, pubmedqa and mmlu tasks point at hub datasets; here their YAML
is loaded from site-packages and only the data source is replaced by a local file, then
run directly with lm-eval's evaluator, exactly as a user of lm-eval would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

LM_EVAL_TASKS = None


def lm_eval_tasks_dir() -> Path:
    import lm_eval

    return Path(lm_eval.__file__).parent / "tasks"


def run_lm_eval_yaml(model_dir: Path, yaml_path: Path, data_file: Path, *,
                     normalised: bool = False) -> dict[int, int]:
    """doc_id -> predicted choice index from lm-eval's own task config over `data_file`."""
    from lm_eval import evaluator
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._yaml_loader import load_yaml
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.core.backends.lmeval_bridge import predictions

    cfg = load_yaml(yaml_path)
    cfg.pop("dataset_name", None)
    cfg.update(dataset_path="json", dataset_kwargs={"data_files": {"test": str(data_file)}},
               test_split="test")
    for split in ("training_split", "validation_split", "fewshot_split"):
        cfg.pop(split, None)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    lm = HFLM(pretrained=model, tokenizer=AutoTokenizer.from_pretrained(model_dir), batch_size=4)
    results = evaluator.simple_evaluate(model=lm, tasks=[cfg], log_samples=True, bootstrap_iters=0,
                                        task_manager=TaskManager(include_defaults=False))
    return predictions(results["samples"][cfg["task"]], normalised=normalised)


def ours(model_dir: Path, suite: str, data_file: Path, tmp_path: Path) -> list:
    from harness.core.backends.base import open_model
    from harness.core.cache import ResultCache
    from suites.registry import get_suite, make_context

    handle = open_model(str(model_dir), cache=ResultCache(tmp_path / "cache"))
    return get_suite(suite).run(handle, make_context(suite, {suite: str(data_file)})).records


QUESTIONS = [
    ("A 45-year-old man has crushing chest pain radiating to the left arm. First test?",
     ["ECG", "Chest X-ray", "Lipid panel", "Colonoscopy"], 0),
    ("A child has a barking cough and stridor. Most likely diagnosis?",
     ["Asthma", "Croup", "Epiglottitis", "Pneumonia"], 1),
    ("Which vitamin deficiency causes scurvy?", ["A", "B12", "C", "D"], 2),
    ("A woman with polyuria and polydipsia has glucose 300 mg/dL. Initial therapy?",
     ["Insulin", "Antibiotics", "Diuretics", "Steroids"], 0),
    ("Which nerve is injured in wrist drop?", ["Median", "Ulnar", "Radial", "Axillary"], 2),
    ("First-line drug for anaphylaxis?", ["Antihistamine", "Epinephrine", "Steroid", "Fluids"], 1),
]


def test_medqa_predictions_equal_lm_eval(tiny_model_dir, tmp_path):
    ours_file = tmp_path / "medqa_test.jsonl"     # the original MedQA JSONL form
    theirs_file = tmp_path / "medqa_hf.jsonl"     # the sent1/ending form lm-eval's task reads
    with ours_file.open("w") as a, theirs_file.open("w") as b:
        for q, opts, ans in QUESTIONS:
            a.write(json.dumps({"question": q, "options": dict(zip("ABCD", opts)),
                                "answer_idx": "ABCD"[ans], "answer": opts[ans]}) + "\n")
            b.write(json.dumps({"sent1": q, **{f"ending{i}": o for i, o in enumerate(opts)},
                                "label": ans}) + "\n")
    expected = run_lm_eval_yaml(tiny_model_dir, lm_eval_tasks_dir() / "medqa" / "medqa.yaml",
                                theirs_file)
    records = ours(tiny_model_dir, "medqa", ours_file, tmp_path)
    assert [r.meta["pred_index"] for r in records] == [expected[i] for i in range(len(QUESTIONS))]
    assert records[0].prompt.startswith("Question: A 45-year-old") and records[0].prompt.endswith(
        "D. Colonoscopy\nAnswer:")


def test_pubmedqa_predictions_equal_lm_eval(tiny_model_dir, tmp_path):
    rows = {}
    for i, (q, _, ans) in enumerate(QUESTIONS):
        rows[str(1000 + i)] = {"QUESTION": q, "CONTEXTS": [f"Background {i}.", "Results were mixed."],
                               "LABELS": ["BACKGROUND", "RESULTS"],
                               "final_decision": ["yes", "no", "maybe"][ans % 3]}
    ori = tmp_path / "ori_pqal.json"
    ori.write_text(json.dumps(rows))
    source = tmp_path / "pubmedqa_source.jsonl"  # bigbio's source schema, one row per PMID
    source.write_text("".join(json.dumps({"PMID": k, **v}) + "\n" for k, v in rows.items()))
    expected = run_lm_eval_yaml(tiny_model_dir,
                                lm_eval_tasks_dir() / "pubmedqa" / "pubmedqa.yaml", source)
    records = ours(tiny_model_dir, "pubmedqa", ori, tmp_path)
    assert [r.meta["pred_index"] for r in records] == [expected[i] for i in range(len(rows))]
    assert {r.pred for r in records} <= {"yes", "no", "maybe"}


def test_mmlu_predictions_equal_lm_eval(tiny_model_dir, tmp_path):
    data = tmp_path / "anatomy.jsonl"
    data.write_text("".join(json.dumps({"subject": "anatomy", "question": q, "choices": o,
                                        "answer": a}) + "\n" for q, o, a in QUESTIONS))
    expected = run_lm_eval_yaml(tiny_model_dir,
                                lm_eval_tasks_dir() / "mmlu" / "default" / "mmlu_anatomy.yaml", data)
    records = ours(tiny_model_dir, "mmlu-medical", data, tmp_path)
    assert [r.meta["pred_index"] for r in records] == [expected[i] for i in range(len(QUESTIONS))]
    assert records[0].prompt.startswith(
        "The following are multiple choice questions (with answers) about anatomy.\n\n")


def test_general_cloze_predictions_equal_lm_eval_continuation(tiny_model_dir, tmp_path):
    """The forgetting suite is lm-eval's mmlu_continuation task, predicted by acc_norm."""
    data = tmp_path / "astronomy.jsonl"
    data.write_text("".join(json.dumps({"subject": "astronomy", "question": q, "choices": o,
                                        "answer": a}) + "\n" for q, o, a in QUESTIONS))
    yaml_path = lm_eval_tasks_dir() / "mmlu" / "continuation" / "mmlu_astronomy.yaml"
    expected = run_lm_eval_yaml(tiny_model_dir, yaml_path, data, normalised=True)
    records = ours(tiny_model_dir, "general", data, tmp_path)
    assert [r.meta["pred_index"] for r in records] == [expected[i] for i in range(len(QUESTIONS))]
    assert records[0].prompt == ("The following are questions (with answers) about astronomy.\n\n"
                                 f"Question: {QUESTIONS[0][0]}\nAnswer:")
    assert all(r.meta["prediction"] == "acc_norm" for r in records)


@pytest.mark.parametrize("fmt", ["medqa", "pubmedqa", "mmlu", "mmlu_cloze", "medmcqa"])
def test_render_matches_lm_eval_prompt(fmt, tiny_model_dir, tmp_path):
    """Our zero-shot rendering (the cache's item hash) is the prompt lm-eval scores."""
    from harness.core.backends import lmeval_bridge as bridge
    from harness.core.backends.base import open_model
    from suites.base import MCItem

    items = [MCItem(item_id=str(i), question=q, options=tuple(o) if fmt != "pubmedqa"
                    else ("yes", "no", "maybe"), answer=a % 3, context="An abstract.",
                    subject="college_medicine") for i, (q, o, a) in enumerate(QUESTIONS[:2])]
    lm = open_model(str(tiny_model_dir)).lm()
    scored = bridge.score_items(lm, items, bridge.get_format(fmt))
    assert [s.prompt for s in scored] == [bridge.render(i, bridge.get_format(fmt)) for i in items]


@pytest.mark.parametrize("suite", ["medqa", "pubmedqa", "mmlu-medical"])
def test_one_pass_path_gives_lm_eval_scores(suite, tiny_model_dir, tmp_path):
    """The single-forward-pass path returns lm-eval's prompts and log-likelihoods."""
    from harness.core.backends import lmeval_bridge as bridge
    from harness.core.backends.base import open_model
    from harness.core.backends.hf import score_one_pass
    from suites.registry import get_suite

    if suite == "medqa":
        data = tmp_path / "m.jsonl"
        data.write_text("".join(json.dumps({"question": q, "options": dict(zip("ABCD", o)),
                                            "answer_idx": "ABCD"[a]}) + "\n"
                                for q, o, a in QUESTIONS))
    elif suite == "pubmedqa":
        data = tmp_path / "p.jsonl"
        data.write_text("".join(json.dumps({"question": q, "context": " ".join(o),
                                            "answer": "yes"}) + "\n" for q, o, _ in QUESTIONS))
    else:
        data = tmp_path / "g.jsonl"
        data.write_text("".join(json.dumps({"subject": ["anatomy", "college_medicine"][i % 2],
                                            "question": q, "choices": o, "answer": a}) + "\n"
                                for i, (q, o, a) in enumerate(QUESTIONS)))
    from suites.registry import make_context

    spec_suite = get_suite(suite)
    items, _ = spec_suite.items(make_context(suite, {suite: str(data)}))
    fmt = bridge.get_format(spec_suite.spec.prompt_format)
    handle = open_model(str(tiny_model_dir))
    reference = bridge.score_items(handle.lm(), items, fmt)
    fast = score_one_pass(handle.lm(), handle.model, items, fmt, batch_size=4)
    assert fast is not None
    assert [s.prompt for s in fast] == [s.prompt for s in reference]
    for a, b in zip(fast, reference):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)
        assert max(range(len(a.logprobs)), key=a.logprobs.__getitem__) == max(
            range(len(b.logprobs)), key=b.logprobs.__getitem__)


def test_shared_context_path_gives_lm_eval_scores(tiny_model_dir, tmp_path):
    """Cloze choices scored with one prompt pass per batch equal lm-eval's full passes,
    for items of different prompt lengths and option counts in one call."""
    from harness.core.backends import lmeval_bridge as bridge
    from harness.core.backends.base import open_model
    from harness.core.backends.hf import score_shared_context
    from suites.base import MCItem

    items = [MCItem(item_id=str(i), question=q, options=tuple(o[: 2 + i % 3]), answer=0,
                    subject="astronomy") for i, (q, o, _) in enumerate(QUESTIONS)]
    items.append(MCItem(item_id="long", question="Which one is a planet?",
                        options=("Mars", "the star at the centre of the solar system",
                                 "a comet with a long tail of ice and dust"), answer=0,
                        subject="astronomy"))
    fmt = bridge.get_format("mmlu_cloze")
    handle = open_model(str(tiny_model_dir))
    reference = bridge.score_items(handle.lm(), items, fmt)
    shared = score_shared_context(handle.lm(), handle.model, items, fmt, batch_size=3)
    assert shared is not None
    assert [s.prompt for s in shared] == [s.prompt for s in reference]
    for item, a, b in zip(items, shared, reference):
        assert len(a.logprobs) == len(item.options)
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)
        assert fmt.predict(item, a.logprobs) == fmt.predict(item, b.logprobs)
