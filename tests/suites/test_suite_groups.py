"""Suite groups: medical-leaderboard expands to its members, and its result is the nine
task scores and their unweighted average, or no average and the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from leaderboard_files import LEADERBOARD_SUBJECTS, write_all, write_mmlu

from harness.app.cli import main
from harness.core.config import EvaluationConfig
from harness.core.errors import BadInputError
from harness.core.summaries import MetricEntry, SuiteInfo, SuiteSummary, read_summaries
from suites.groups import group_result
from suites.registry import (
    apply_config,
    expand_suites,
    find_group,
    list_groups,
    requested_groups,
    use_spec_paths,
)

NINE = ["medmcqa", "medqa_4options", *[f"mmlu_{s}" for s in LEADERBOARD_SUBJECTS], "pubmedqa"]
MEMBERS = ["medmcqa", "medqa", "mmlu-medical", "pubmedqa"]


@pytest.fixture(autouse=True)
def bundled_only(monkeypatch):
    monkeypatch.delenv("MEDGATE_SUITE_PATH", raising=False)
    use_spec_paths([])
    yield
    use_spec_paths([])


def test_the_group_is_declared_with_the_leaderboards_nine_tasks():
    group = find_group("medical-leaderboard")
    assert group is not None and [g.name for g in list_groups()] == ["medical-leaderboard"]
    assert list(group.members) == MEMBERS
    assert [t.name for t in group.tasks] == NINE
    assert {t.name: (t.suite, t.metric) for t in group.tasks}["mmlu_anatomy"] == \
        ("mmlu-medical", "accuracy.anatomy")
    assert group.conditions == {"num_fewshot": 0, "apply_chat_template": False}


def test_group_names_expand_wherever_suites_are_listed():
    assert expand_suites(["medical-leaderboard"]) == MEMBERS
    assert expand_suites(["medqa", "medical-leaderboard", "safety"]) == [
        "medqa", "medmcqa", "mmlu-medical", "pubmedqa", "safety"]  # each suite once
    assert [g.name for g in requested_groups(["medqa", "medical-leaderboard"])] == \
        ["medical-leaderboard"]
    with pytest.raises(BadInputError, match=r"unknown suite 'nosuch'.*groups: "
                                            r"medical-leaderboard"):
        expand_suites(["nosuch"])
    config = EvaluationConfig(suites=["medical-leaderboard", "general"])
    apply_config(config)  # the config's list: what preflight, evaluation and gates read
    assert config.suites == [*MEMBERS, "general"]


def _write_group(folder: Path, **fields) -> Path:
    folder.mkdir(exist_ok=True)
    body = {"name": "mine", "kind": "group", "description": "Two suites.",
            "members": ["medqa", "pubmedqa"],
            "tasks": {"medqa_4options": "medqa.accuracy", "pubmedqa": "pubmedqa.accuracy"},
            **fields}
    path = folder / f"{body['name']}.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def test_a_users_group_file_is_read_beside_the_bundled_one(tmp_path):
    path = _write_group(tmp_path / "specs")
    use_spec_paths([path])
    assert expand_suites(["mine"]) == ["medqa", "pubmedqa"]


@pytest.mark.parametrize("fields, message", [
    ({"members": ["medqa", "pubmedqa", "nosuch"]}, "group 'mine' names unknown suite(s) nosuch"),
    ({"tasks": {"x": "general.accuracy"}}, "reads suite 'general', which is not a member"),
    ({"tasks": {"x": "medqa"}}, "task 'x' must name 'suite.metric'"),
    ({"name": "medqa"}, "group 'medqa' is declared twice (also as a suite"),
    ({"conditions": {"num_fewshot": "zero"}}, "condition 'num_fewshot' is not one of"),
    ({"weights": [1, 2]}, "unknown key(s) ['weights']"),
    ({"tasks": {"x": {"score": "medqa.accuracy", "items": 0}}}, "'items' must be a positive"),
    ({"tasks": {"x": {"scor": "medqa.accuracy"}}}, "unknown key(s) ['scor']"),
])
def test_a_bad_group_names_its_file_and_key(fields, message, tmp_path):
    path = _write_group(tmp_path / "specs", **fields)
    with pytest.raises(BadInputError) as caught:
        use_spec_paths([path])
    assert message in str(caught.value) and str(path) in str(caught.value)


def _summaries(values: dict[str, float], **info) -> dict[str, SuiteSummary]:
    """Member summaries as the evaluator writes them, task values taken from `values`."""
    def entry(task: str) -> MetricEntry:
        return MetricEntry(value=values[task], ci=[0.0, 1.0], n=10 + len(task))

    base = {"demo": False, "num_fewshot": 0, "apply_chat_template": False, **info}
    mmlu = {f"accuracy.{s}": entry(f"mmlu_{s}") for s in LEADERBOARD_SUBJECTS
            if f"mmlu_{s}" in values}
    return {
        "medmcqa": SuiteSummary(metrics={"accuracy": entry("medmcqa")},
                                info=SuiteInfo(**base)),
        "medqa": SuiteSummary(metrics={"accuracy": entry("medqa_4options")},
                              info=SuiteInfo(**base)),
        "mmlu-medical": SuiteSummary(metrics={"accuracy": MetricEntry(value=0.5, n=60), **mmlu},
                                     info=SuiteInfo(**base)),
        "pubmedqa": SuiteSummary(metrics={"accuracy": entry("pubmedqa")},
                                 info=SuiteInfo(**base)),
    }


VALUES = dict(zip(NINE, [0.31, 0.42, 0.55, 0.61, 0.58, 0.47, 0.66, 0.52, 0.71], strict=True))


def test_the_average_is_the_unweighted_mean_of_the_nine_tasks():
    result = group_result(find_group("medical-leaderboard"), _summaries(VALUES))
    assert list(result["tasks"]) == NINE
    assert result["average"]["value"] == pytest.approx(sum(VALUES.values()) / 9)
    assert result["average"]["n_tasks"] == 9 and result["average_absent"] == []
    anatomy = result["tasks"]["mmlu_anatomy"]
    assert (anatomy["value"], anatomy["n"], anatomy["metric"]) == (0.55, 22, "accuracy.anatomy")
    # not weighted by items: the MMLU suite's overall accuracy (0.5 over 60) plays no part
    assert result["average"]["value"] != pytest.approx(
        (0.31 + 0.42 + 0.5 + 0.71) / 4)


def test_a_missing_subject_leaves_no_average_and_names_the_task():
    values = {k: v for k, v in VALUES.items() if k != "mmlu_medical_genetics"}
    result = group_result(find_group("medical-leaderboard"), _summaries({**values}))
    assert result["average"] is None
    assert result["tasks"]["mmlu_medical_genetics"]["value"] is None
    assert result["average_absent"] == [
        ("mmlu_medical_genetics: suite 'mmlu-medical' has no metric "
        "'accuracy.medical_genetics' (no items of it in the data?)")]


def test_a_failed_missing_or_nan_member_leaves_no_average():
    group = find_group("medical-leaderboard")
    summaries = _summaries(VALUES)
    summaries["pubmedqa"] = SuiteSummary(error="BadInputError: broken file")
    del summaries["medmcqa"]
    summaries["medqa"].metrics["accuracy"] = MetricEntry(value=None, n=0)
    result = group_result(group, summaries)
    assert result["average"] is None
    assert result["average_absent"] == [
        "medmcqa: suite 'medmcqa' was not evaluated",
        "medqa_4options: 'medqa.accuracy' has no value",
        "pubmedqa: suite 'pubmedqa' failed: BadInputError: broken file"]


@pytest.mark.parametrize("info, reason", [
    ({"demo": True}, "scored on bundled demo data"),
    ({"num_fewshot": 5}, "ran with num_fewshot=5; the group's number needs num_fewshot=0"),
    ({"apply_chat_template": True}, "apply_chat_template=True"),
])
def test_other_conditions_than_the_leaderboards_leave_no_average(info, reason):
    result = group_result(find_group("medical-leaderboard"), _summaries(VALUES, **info))
    assert result["average"] is None
    assert len(result["average_absent"]) == 4 and reason in result["average_absent"][0]


def test_a_file_of_another_size_than_the_published_split_is_noted():
    summaries = _summaries(VALUES)
    summaries["pubmedqa"].metrics["accuracy"] = MetricEntry(value=0.7, n=1000)
    summaries["medqa"].metrics["accuracy"] = MetricEntry(value=0.4, n=1273)
    result = group_result(find_group("medical-leaderboard"), summaries)
    assert result["average"] is not None
    assert result["tasks"]["pubmedqa"]["published_items"] == 500
    notes = [n for n in result["notes"] if n.startswith(("pubmedqa", "medqa"))]
    assert notes == [("pubmedqa: 1000 items scored; the published split has 500: a different "
                     "file or split gives a different number")]


def test_a_limit_that_cut_a_member_keeps_the_average_and_says_so():
    summaries = _summaries(VALUES, limit=20, n_items=20)
    summaries["pubmedqa"].info.n_items = 4  # a file shorter than the limit was not cut
    result = group_result(find_group("medical-leaderboard"), summaries)
    assert result["average"] is not None
    assert result["notes"][:3] == [
        f"{s}: --limit 20 scored only the first 20 items, not the whole file"
        for s in ("medmcqa", "medqa", "mmlu-medical")]
    assert result["notes"][3].startswith("pubmedqa: 18 items scored; the published split "
                                         "has 500")
    del summaries["mmlu-medical"].metrics["accuracy.anatomy"]  # past the limit
    result = group_result(find_group("medical-leaderboard"), summaries)
    assert result["average"] is None
    assert result["average_absent"] == [
        ("mmlu_anatomy: suite 'mmlu-medical' has no metric 'accuracy.anatomy': none of its "
        "items among the first 20 scored (--limit counts the suite's items, not each "
        "subject's)")]


def _eval(tmp_path: Path, model: Path, data: dict[str, Path], *extra: str) -> int:
    args = ["eval", "--model", str(model), "--suites", "medical-leaderboard",
            "--run-dir", str(tmp_path / "run"), "--set", ("evaluation.suite_options.medmcqa."
            "cop_base=0"), *extra]
    for suite, path in data.items():
        args += ["--data", f"{suite}={path}"]
    return main(args)


def test_cli_runs_the_group_and_writes_its_result(tiny_model_dir, tmp_path, capsys,
                                                   monkeypatch):
    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    files = write_all(tmp_path / "data")
    data = {"medmcqa": files["medmcqa"], "medqa": files["medqa"],
            "mmlu-medical": files["mmlu_csv"], "pubmedqa": files["pubmedqa"]}
    assert _eval(tmp_path, tiny_model_dir, data) == 0
    console = capsys.readouterr().out
    eval_dir = tmp_path / "run" / "evals" / "base"
    summaries = read_summaries(eval_dir)
    assert sorted(summaries) == sorted(MEMBERS)  # summary.json keeps {suite: {metric: ...}}
    assert "groups" not in json.loads((eval_dir / "summary.json").read_text())
    result = json.loads((eval_dir / "groups.json").read_text())["medical-leaderboard"]
    expected = {"medmcqa": summaries["medmcqa"].metrics["accuracy"],
                "medqa_4options": summaries["medqa"].metrics["accuracy"],
                "pubmedqa": summaries["pubmedqa"].metrics["accuracy"],
                **{f"mmlu_{s}": summaries["mmlu-medical"].metrics[f"accuracy.{s}"]
                   for s in LEADERBOARD_SUBJECTS}}
    assert {t: (e["value"], e["n"]) for t, e in result["tasks"].items()} == \
        {t: (m.value, m.n) for t, m in expected.items()}
    assert result["average"]["value"] == pytest.approx(
        sum(m.value for m in expected.values()) / 9)
    assert "medical-leaderboard (zero-shot acc per task)" in console
    assert f"{result['average']['value']:.3f}" in console and "mmlu_professional_medicine" in \
        console


def test_cli_mmlu_folder_missing_a_subject_prints_no_average(tiny_model_dir, tmp_path, capsys,
                                                              monkeypatch):
    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    files = write_all(tmp_path / "data")
    five, _ = write_mmlu(tmp_path / "five", subjects=LEADERBOARD_SUBJECTS[:-1],
                         extra_subject="virology")
    data = {"medmcqa": files["medmcqa"], "medqa": files["medqa"], "mmlu-medical": five,
            "pubmedqa": files["pubmedqa"]}
    assert _eval(tmp_path, tiny_model_dir, data, "--limit", "50") == 0
    console = " ".join(capsys.readouterr().out.split())
    result = json.loads((tmp_path / "run" / "evals" / "base" / "groups.json").read_text())
    result = result["medical-leaderboard"]
    assert result["average"] is None
    assert result["average_absent"] == [
        ("mmlu_professional_medicine: suite 'mmlu-medical' has no metric "
        "'accuracy.professional_medicine' (no items of it in the data?)")]
    assert "no medical-leaderboard average: mmlu_professional_medicine" in console
    assert "absent" in console and "--limit" not in console  # 50 cut nothing
    assert ("not scored mmlu-medical: rows of subjects outside the suite's `subjects` "
            "option: virology 2") in console


def test_cli_demo_data_members_print_no_leaderboard_average(tiny_model_dir, tmp_path, capsys,
                                                            monkeypatch):
    """medqa and pubmedqa fall back to their bundled demo files: not the benchmark."""
    monkeypatch.setenv("MEDGATE_CACHE", str(tmp_path / "cache"))
    files = write_all(tmp_path / "data")
    data = {"medmcqa": files["medmcqa"], "mmlu-medical": files["mmlu_parquet"]}
    assert _eval(tmp_path, tiny_model_dir, data, "--limit", "2") == 0
    result = json.loads((tmp_path / "run" / "evals" / "base" / "groups.json").read_text())
    reasons = result["medical-leaderboard"]["average_absent"]
    assert result["medical-leaderboard"]["average"] is None
    assert any(r.startswith("medqa was scored on bundled demo data") for r in reasons)


def test_suites_command_lists_the_group(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["suites", "--json"]) == 0
    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    group = entries["medical-leaderboard"]
    assert group["kind"] == "group" and group["members"] == MEMBERS
    assert list(group["tasks"]) == NINE
    assert group["tasks"]["pubmedqa"] == {"score": "pubmedqa.accuracy", "items": 500}
    assert main(["suites"]) == 0
    assert "medical-leaderboard" in capsys.readouterr().out
