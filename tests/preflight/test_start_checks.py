"""What `train-and-gate` refuses at start, before a run directory, a lock or a model:
an LLM judge asked for in a way nothing reads, or one that cannot be used."""

from __future__ import annotations

import pytest

from harness.app import pipeline
from harness.app.cli import main
from harness.app.commands.init import render_starter
from harness.app.judge_check import check_llm_judges
from harness.core.config import load_config
from harness.core.errors import BadInputError


@pytest.fixture
def no_pipeline(monkeypatch):
    """A refused start never reaches the pipeline; if it did, fail fast instead of training."""
    def ran(*_args, **_kwargs):
        raise AssertionError("the pipeline started")

    monkeypatch.setattr(pipeline, "run_pipeline", ran)


@pytest.mark.parametrize("key", ["judge", "judge_model", "judge_endpoint"])
def test_retired_judge_keys_are_refused_with_a_pointer(key):
    with pytest.raises(BadInputError) as caught:
        load_config(overrides=[f"evaluation.{key}=llm"])
    assert f"evaluation.{key}" in str(caught.value)
    assert "suite_options" in str(caught.value) and "llm_judge" in str(caught.value)


def test_init_writes_no_judge_key_that_nothing_reads(tmp_path):
    text = render_starter()
    evaluation = text.split("\nevaluation:\n", 1)[1].split("\n\n", 1)[0]
    assert not [line for line in evaluation.splitlines()
                if line.strip().startswith(("judge:", "judge_model:", "judge_endpoint:"))]
    path = tmp_path / "medgate.yaml"
    path.write_text(text, encoding="utf-8")
    load_config(path)


def test_config_file_with_judge_model_exits_2_naming_the_key(tmp_path, capsys, no_pipeline):
    path = tmp_path / "medgate.yaml"
    path.write_text("evaluation:\n  judge: llm\n  judge_model: ./judge\n", encoding="utf-8")
    assert main(["train-and-gate", "-c", str(path), "--run-dir", str(tmp_path / "run")]) == 2
    err = " ".join(capsys.readouterr().err.split())  # rich wraps lines
    assert "evaluation.judge" in err and "suite_options" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("options, said", [
    ("{safety: {judge: llm}}", "names none"),
    ("{safety: {judge: llm, llm_judge: {endpoint: 'http://127.0.0.1:9/v1'}}}", "model"),
    ("{safety: {judge: llm, llm_judge: {endpoint: 'ftp://x', model: j}}}", "http"),
    ("{safety: {judge: llm, llm_judge: {model: /no/such/judge}}}", "not found"),
])
def test_llm_judge_without_a_usable_judge_exits_2_at_start(tmp_path, capsys, no_pipeline,
                                                           options, said):
    run = tmp_path / "run"
    code = main(["train-and-gate", "--run-dir", str(run),
                 "--set", "evaluation.suites=[safety]",
                 "--set", f"evaluation.suite_options={options}"])
    err = " ".join(capsys.readouterr().err.split())  # rich wraps lines
    assert code == 2, err
    assert "llm_judge" in err and said in err and "Traceback" not in err
    assert not run.exists()  # refused before the run directory, its lock or any model


def test_local_folder_that_is_not_a_model_is_refused(tmp_path):
    folder = tmp_path / "judge"
    folder.mkdir()
    config = load_config(overrides=["evaluation.suites=[safety]",
                                     (f"evaluation.suite_options={{safety: {{judge: llm, "
                                     f"llm_judge: {{model: '{folder}'}}}}}}")])
    with pytest.raises(BadInputError, match="no config.json"):
        check_llm_judges(config.evaluation)


def test_hub_judge_not_cached_is_refused_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = load_config(overrides=["evaluation.suites=[safety]",
                                     ("evaluation.suite_options={safety: {judge: llm, "
                                     "llm_judge: {model: medgate-test/no-such-judge}}}")])
    with pytest.raises(BadInputError, match="local hub cache"):
        check_llm_judges(config.evaluation)


def test_usable_judges_and_the_rules_judge_pass(tiny_model_dir):
    for options in ["{safety: {judge: rules}}",
                    "{safety: {judge: llm, llm_judge: {endpoint: 'http://127.0.0.1:9/v1', model: j}}}",
                    f"{{safety: {{judge: llm, llm_judge: {{model: '{tiny_model_dir}'}}}}}}"]:
        config = load_config(overrides=["evaluation.suites=[safety]",
                                        f"evaluation.suite_options={options}"])
        check_llm_judges(config.evaluation)


def test_judge_options_of_a_suite_not_run_are_not_checked():
    config = load_config(overrides=["evaluation.suites=[medqa]",
                                    "evaluation.suite_options={safety: {judge: llm}}"])
    check_llm_judges(config.evaluation)


@pytest.mark.parametrize("env", [
    {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"},  # torchrun's rank 0
    {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"},
    {"RANK": "1"},  # a non-zero rank is a distributed launch even without WORLD_SIZE
])
def test_train_and_gate_under_torchrun_exits_2_before_the_lock(tmp_path, capsys, monkeypatch,
                                                               no_pipeline, env):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    run = tmp_path / "run"
    assert main(["train-and-gate", "--run-dir", str(run)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "distributed launch" in err and "torchrun" in err
    assert "harness.app.cli train" in err and "medgate eval" in err and "medgate gate" in err
    assert not run.exists()  # no run directory, so no lock was taken


def test_single_process_launch_is_not_refused(monkeypatch):
    from harness.app.commands.train_and_gate import refuse_distributed_launch

    refuse_distributed_launch({"WORLD_SIZE": "1", "RANK": "0", "LOCAL_RANK": "0"})
    refuse_distributed_launch({})
    with pytest.raises(BadInputError, match="WORLD_SIZE"):
        refuse_distributed_launch({"WORLD_SIZE": "two"})
