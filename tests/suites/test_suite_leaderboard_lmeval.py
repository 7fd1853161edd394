"""The nine Open Medical-LLM Leaderboard tasks: our per-choice log-likelihoods are lm-eval's.

For each task, lm-eval's OWN task YAML from site-packages (medmcqa with its utils
function, medqa_4options, pubmedqa, the six mmlu_<subject> files) is loaded and only its
data source is pointed at a local file in the published format; lm-eval's evaluator runs
all nine in one call. Our suites read the files users hold (MedQA's 4-options JSONL,
ori_pqal.json, MedMCQA's Hugging Face Parquet and its original JSON with cop 1..4, MMLU's
original CSV folder and cais/mmlu's Parquet folder). Every item's every choice
log-likelihood must match, not only the argmax: a small random model picks the same letter
for nearly everything, so equal predictions alone would prove little. Equal accuracies
per task follow, and with them the leaderboard average.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from leaderboard_files import LEADERBOARD_SUBJECTS, write_all
from lmeval_local import local_task, simple_evaluate, tasks_dir

# The same float32 model on the same requests: batch composition moves the last bits (the
# largest difference seen is under 1e-6), while a prompt one space different moves them by
# more than 1e-4.
ATOL = 1e-5


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_all(tmp_path_factory.mktemp("leaderboard"))


@pytest.fixture(scope="module")
def lm_eval_loglikelihoods(files, tiny_model_dir) -> dict[str, list[list[float]]]:
    """{task: per doc, in file order, the log-likelihood of each choice} from lm-eval."""
    tasks = tasks_dir()
    medmcqa = local_task(tasks / "medmcqa" / "medmcqa.yaml", files["medmcqa"],
                         builder="parquet", split="validation")
    assert medmcqa["test_split"] == "validation"  # the split the leaderboard scores
    configs = [
        medmcqa,
        local_task(tasks / "medqa" / "medqa.yaml", files["medqa_hf"]),
        local_task(tasks / "pubmedqa" / "pubmedqa.yaml", files["pubmedqa_source"]),
        *[local_task(tasks / "mmlu" / "default" / f"mmlu_{s}.yaml",
                     files["mmlu_parquet"] / s / "test-00000-of-00001.parquet",
                     builder="parquet")
          for s in LEADERBOARD_SUBJECTS],
    ]
    results = simple_evaluate(tiny_model_dir, configs, bootstrap_iters=0, num_fewshot=0)
    out = {}
    for cfg in configs:
        samples = sorted(results["samples"][cfg["task"]], key=lambda s: s["doc_id"])
        out[cfg["task"]] = [[float(r[0]) for r in s["filtered_resps"]] for s in samples]
        assert results["results"][cfg["task"]]["acc,none"] == pytest.approx(
            np.mean([s["acc"] for s in samples]))
    assert sorted(out) == sorted(["medmcqa", "medqa_4options", "pubmedqa",
                                  *[f"mmlu_{s}" for s in LEADERBOARD_SUBJECTS]])
    return out


def _ours(model_dir: Path, suite: str, data: Path, tmp_path: Path,
          options: dict | None = None) -> list:
    from harness.core.backends import open_model
    from harness.core.cache import ResultCache
    from suites.registry import get_suite, make_context

    handle = open_model(str(model_dir), cache=ResultCache(tmp_path / "cache"))
    ctx = make_context(suite, {suite: str(data)}, options)
    return get_suite(suite, options).run(handle, ctx).records


def _assert_equal(records: list, theirs: list[list[float]]) -> None:
    assert len(records) == len(theirs) > 0
    ours = [r.choice_logprobs for r in records]
    assert [len(o) for o in ours] == [len(t) for t in theirs]
    assert np.allclose(np.array(ours), np.array(theirs), rtol=0, atol=ATOL), (ours, theirs)
    # the scores differ between choices: the comparison is not of constants
    assert len({round(x, 3) for row in ours for x in row}) > len(ours)


def _accuracy(records: list) -> float:
    return float(np.mean([r.correct for r in records]))


def _their_accuracy(theirs: list[list[float]], gold: list[int]) -> float:
    return float(np.mean([int(np.argmax(t)) == g for t, g in zip(theirs, gold, strict=True)]))


def test_medqa_4options(files, lm_eval_loglikelihoods, tiny_model_dir, tmp_path):
    records = _ours(tiny_model_dir, "medqa", files["medqa"], tmp_path)
    _assert_equal(records, lm_eval_loglikelihoods["medqa_4options"])


def test_pubmedqa_from_ori_pqal(files, lm_eval_loglikelihoods, tiny_model_dir, tmp_path):
    records = _ours(tiny_model_dir, "pubmedqa", files["pubmedqa"], tmp_path)
    _assert_equal(records, lm_eval_loglikelihoods["pubmedqa"])
    assert [r.item_id for r in records][:1] == ["21000000"]  # the PMID is the item id


@pytest.mark.parametrize("form, options", [("medmcqa", {"cop_base": 0}),
                                           ("medmcqa_original", {"cop_base": 1})],
                         ids=["hf_parquet_cop0", "original_json_cop1"])
def test_medmcqa(form, options, files, lm_eval_loglikelihoods, tiny_model_dir, tmp_path):
    records = _ours(tiny_model_dir, "medmcqa", files[form], tmp_path, options)
    theirs = lm_eval_loglikelihoods["medmcqa"]
    _assert_equal(records, theirs)
    assert [r.item_id for r in records][:2] == ["mcqa-0000", "mcqa-0001"]  # the row's id
    gold = [r.meta["gold_index"] for r in records]
    assert _accuracy(records) == _their_accuracy(theirs, gold)


@pytest.mark.parametrize("form", ["mmlu_csv", "mmlu_parquet"])
def test_mmlu_six_subjects(form, files, lm_eval_loglikelihoods, tiny_model_dir, tmp_path):
    records = _ours(tiny_model_dir, "mmlu-medical", files[form], tmp_path)
    by_subject: dict[str, list] = {}
    for r in records:
        by_subject.setdefault(r.meta["subject"], []).append(r)
    assert sorted(by_subject) == sorted(LEADERBOARD_SUBJECTS)
    for subject, recs in by_subject.items():
        _assert_equal(recs, lm_eval_loglikelihoods[f"mmlu_{subject}"])
        assert recs[0].prompt.startswith("The following are multiple choice questions (with "
                                         f"answers) about {subject.replace('_', ' ')}.\n\n")
