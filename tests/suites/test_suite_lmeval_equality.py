"""Per-item predictions of medgate equal those of lm-eval's own task YAML on the same file.

lm-eval's medqa_4options, pubmedqa and mmlu tasks point at hub datasets; here their YAML
is loaded from site-packages and only the data source is replaced by a local file, then
run directly with lm-eval's evaluator, exactly as a user of lm-eval would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lmeval_local import QUESTIONS, local_task, simple_evaluate, tasks_dir


def run_lm_eval_yaml(model_dir: Path, yaml_path: Path, data_file: Path, *,
                     normalised: bool = False) -> dict[int, int]:
    """doc_id -> predicted choice index from lm-eval's own task config over `data_file`."""
    from suites.lmeval_tasks import predictions

    cfg = local_task(yaml_path, data_file)
    results = simple_evaluate(model_dir, [cfg], bootstrap_iters=0)
    return predictions(results["samples"][cfg["task"]], normalised=normalised)


def ours(model_dir: Path, suite: str, data_file: Path, tmp_path: Path, *,
         fast: bool = False) -> list:
    from harness.core.backends import open_model
    from harness.core.cache import ResultCache
    from suites.registry import get_suite, make_context

    handle = open_model(str(model_dir), cache=ResultCache(tmp_path / f"cache-{fast}"))
    handle.fast_path = fast
    records = get_suite(suite).run(handle, make_context(suite, {suite: str(data_file)})).records
    if fast:  # every request went through the fast path: the equality is the fast path's
        assert handle.stats["fast_path_requests"] == handle.stats["requests_scored"] > 0
    return records


@pytest.mark.parametrize("fast", [False, True], ids=["hflm", "fast_path"])
def test_medqa_predictions_equal_lm_eval(fast, tiny_model_dir, tmp_path):
    ours_file = tmp_path / "medqa_test.jsonl"     # the original MedQA JSONL form
    theirs_file = tmp_path / "medqa_hf.jsonl"     # the sent1/ending form lm-eval's task reads
    with ours_file.open("w") as a, theirs_file.open("w") as b:
        for q, opts, ans in QUESTIONS:
            a.write(json.dumps({"question": q, "options": dict(zip("ABCD", opts)),
                                "answer_idx": "ABCD"[ans], "answer": opts[ans]}) + "\n")
            b.write(json.dumps({"sent1": q, **{f"ending{i}": o for i, o in enumerate(opts)},
                                "label": ans}) + "\n")
    expected = run_lm_eval_yaml(tiny_model_dir, tasks_dir() / "medqa" / "medqa.yaml",
                                theirs_file)
    records = ours(tiny_model_dir, "medqa", ours_file, tmp_path, fast=fast)
    assert [r.meta["pred_index"] for r in records] == [expected[i] for i in range(len(QUESTIONS))]
    assert records[0].prompt.startswith("Question: A 45-year-old") and records[0].prompt.endswith(
        "D. Colonoscopy\nAnswer:")


@pytest.mark.parametrize("fast", [False, True], ids=["hflm", "fast_path"])
def test_pubmedqa_predictions_equal_lm_eval(fast, tiny_model_dir, tmp_path):
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
                                tasks_dir() / "pubmedqa" / "pubmedqa.yaml", source)
    records = ours(tiny_model_dir, "pubmedqa", ori, tmp_path, fast=fast)
    assert [r.meta["pred_index"] for r in records] == [expected[i] for i in range(len(rows))]
    assert {r.pred for r in records} <= {"yes", "no", "maybe"}


@pytest.mark.parametrize("fast", [False, True], ids=["hflm", "fast_path"])
def test_mmlu_predictions_equal_lm_eval(fast, tiny_model_dir, tmp_path):
    data = tmp_path / "anatomy.jsonl"
    data.write_text("".join(json.dumps({"subject": "anatomy", "question": q, "choices": o,
                                        "answer": a}) + "\n" for q, o, a in QUESTIONS))
    expected = run_lm_eval_yaml(tiny_model_dir,
                                tasks_dir() / "mmlu" / "default" / "mmlu_anatomy.yaml", data)
    records = ours(tiny_model_dir, "mmlu-medical", data, tmp_path, fast=fast)
    assert [r.meta["pred_index"] for r in records] == [expected[i] for i in range(len(QUESTIONS))]
    assert records[0].prompt.startswith(
        "The following are multiple choice questions (with answers) about anatomy.\n\n")


@pytest.mark.parametrize("fast", [False, True], ids=["hflm", "fast_path"])
def test_general_cloze_predictions_equal_lm_eval_continuation(fast, tiny_model_dir, tmp_path):
    """The forgetting suite is lm-eval's mmlu_continuation task, predicted by acc_norm."""
    data = tmp_path / "astronomy.jsonl"
    data.write_text("".join(json.dumps({"subject": "astronomy", "question": q, "choices": o,
                                        "answer": a}) + "\n" for q, o, a in QUESTIONS))
    yaml_path = tasks_dir() / "mmlu" / "continuation" / "mmlu_astronomy.yaml"
    expected = run_lm_eval_yaml(tiny_model_dir, yaml_path, data, normalised=True)
    records = ours(tiny_model_dir, "general", data, tmp_path, fast=fast)
    assert [r.meta["pred_index"] for r in records] == [expected[i] for i in range(len(QUESTIONS))]
    assert records[0].prompt == ("The following are questions (with answers) about astronomy.\n\n"
                                 f"Question: {QUESTIONS[0][0]}\nAnswer:")
    assert all(r.meta["prediction"] == "acc_norm" for r in records)


def _items(fmt: str) -> list:
    from suites.base import MCItem

    return [MCItem(item_id=str(i), question=q, options=tuple(o) if fmt != "pubmedqa"
                   else ("yes", "no", "maybe"), answer=a % 3, context=f"Abstract {i}.",
                   subject="college_medicine") for i, (q, o, a) in enumerate(QUESTIONS)]


@pytest.mark.parametrize("fmt", ["medqa", "pubmedqa", "mmlu", "mmlu_cloze", "medmcqa"])
def test_zero_shot_requests_are_the_ones_lm_eval_builds(fmt):
    """The zero-shot prompts rendered in Python are the (context, continuation) requests
    lm-eval's own task machinery builds from the same config."""
    from suites.formats import get_format, zero_shot_requests
    from suites.lmeval_tasks import task_requests

    items = _items(fmt)
    built = task_requests(items, get_format(fmt))
    assert built == [zero_shot_requests(i, get_format(fmt)) for i in items]


@pytest.mark.parametrize("fmt", ["medqa", "mmlu"])
def test_fewshot_and_chat_requests_are_lm_eval_evaluators(fmt, tiny_model_dir, tmp_path):
    """Few-shot and chat prompts equal the ones lm-eval's simple_evaluate scores for the same
    task config, shots and seed (its logged samples)."""
    import json as _json

    from lm_eval import evaluator
    from lm_eval.tasks import TaskManager

    from harness.core.backends import open_model
    from suites.formats import get_format, to_doc
    from suites.lmeval_tasks import task_config, task_requests

    items = _items(fmt)
    f = get_format(fmt)
    handle = open_model(str(tiny_model_dir))
    ours = task_requests(items, f, num_fewshot=2, chat_template=handle.apply_chat_template,
                         seed=7)
    docs = [to_doc(i) | ({"description": f.description(to_doc(i))} if f.description else {})
            for i in items]
    data = tmp_path / "docs.jsonl"
    data.write_text("".join(_json.dumps(d) + "\n" for d in docs))
    results = evaluator.simple_evaluate(
        model=handle.lm(), tasks=[task_config("equality", data, f)], num_fewshot=2,
        apply_chat_template=True, log_samples=True, bootstrap_iters=0, fewshot_random_seed=7,
        task_manager=TaskManager(include_defaults=False))
    samples = sorted(results["samples"]["equality"], key=lambda s: s["doc_id"])
    theirs = [[tuple(args) for args in s["arguments"]] for s in samples]
    assert ours == theirs
    assert all("<|im_start|>" in reqs[0][0] and reqs[0][0].count("Answer:") >= 3
               for reqs in ours)


@pytest.mark.parametrize("suite", ["medqa", "pubmedqa", "mmlu-medical"])
def test_one_pass_path_gives_lm_eval_scores(suite, tiny_model_dir, tmp_path):
    """Single-token choices from one forward pass per prompt give HFLM's log-likelihoods."""
    from harness.core.backends import lmeval_bridge as bridge
    from harness.core.backends import open_model
    from harness.core.backends.hf_fast import answer_shared_contexts
    from suites.formats import get_format, zero_shot_requests
    from suites.registry import get_suite, make_context

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
    spec_suite = get_suite(suite)
    items, _ = spec_suite.items(make_context(suite, {suite: str(data)}))
    fmt = get_format(spec_suite.spec.prompt_format)
    requests = [r for item in items for r in zero_shot_requests(item, fmt)]
    handle = open_model(str(tiny_model_dir))
    reference = bridge.loglikelihood(handle.lm(), requests)
    fast = answer_shared_contexts(handle.lm(), handle.model, requests, batch_size=4)
    assert sorted(fast) == list(range(len(requests)))
    assert [fast[i] for i in range(len(requests))] == pytest.approx(reference, abs=1e-4)
    for start in range(0, len(requests), len(fmt.continuations(items[0]))):
        part = range(start, start + len(fmt.continuations(items[0])))
        assert max(part, key=lambda i: fast[i]) == max(part, key=lambda i: reference[i])


def test_shared_context_path_gives_lm_eval_scores(tiny_model_dir, tmp_path):
    """Cloze choices scored with one prompt pass per batch equal lm-eval's full passes,
    for items of different prompt lengths and option counts in one call."""
    from harness.core.backends import lmeval_bridge as bridge
    from harness.core.backends import open_model
    from harness.core.backends.hf_fast import answer_shared_contexts
    from suites.base import MCItem
    from suites.formats import get_format, zero_shot_requests

    items = [MCItem(item_id=str(i), question=q, options=tuple(o[: 2 + i % 3]), answer=0,
                    subject="astronomy") for i, (q, o, _) in enumerate(QUESTIONS)]
    items.append(MCItem(item_id="long", question="Which one is a planet?",
                        options=("Mars", "the star at the centre of the solar system",
                                 "a comet with a long tail of ice and dust"), answer=0,
                        subject="astronomy"))
    fmt = get_format("mmlu_cloze")
    planned = [zero_shot_requests(item, fmt) for item in items]
    requests = [r for reqs in planned for r in reqs]
    handle = open_model(str(tiny_model_dir))
    reference = bridge.loglikelihood(handle.lm(), requests)
    shared = answer_shared_contexts(handle.lm(), handle.model, requests, batch_size=3)
    assert sorted(shared) == list(range(len(requests)))
    offset = 0
    for item, reqs in zip(items, planned):
        ours = [shared[i] for i in range(offset, offset + len(reqs))]
        theirs = reference[offset:offset + len(reqs)]
        offset += len(reqs)
        assert len(ours) == len(item.options)
        assert ours == pytest.approx(theirs, abs=1e-4)
        assert fmt.predict(item, ours) == fmt.predict(item, theirs)


@pytest.mark.parametrize("fmt", ["medqa", "mmlu_cloze"])
def test_fast_path_gives_lm_eval_scores_on_fewshot_and_chat_prompts(fmt, tiny_model_dir):
    """The backend's fast path is a property of requests, not of zero-shot prompts: on
    few-shot chat prompts it gives HFLM's log-likelihoods too."""
    from harness.core.backends import lmeval_bridge as bridge
    from harness.core.backends import open_model
    from harness.core.backends.hf_fast import answer_shared_contexts
    from suites.formats import get_format
    from suites.lmeval_tasks import task_requests

    handle = open_model(str(tiny_model_dir))
    for chat in (None, handle.apply_chat_template):
        planned = task_requests(_items(fmt), get_format(fmt), num_fewshot=2, chat_template=chat)
        requests = [r for reqs in planned for r in reqs]
        reference = bridge.loglikelihood(handle.lm(), requests)
        fast = answer_shared_contexts(handle.lm(), handle.model, requests, batch_size=4)
        assert sorted(fast) == list(range(len(requests)))
        assert [fast[i] for i in range(len(requests))] == pytest.approx(reference, abs=1e-4)
