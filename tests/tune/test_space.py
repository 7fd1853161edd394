"""The space file: distributions, objectives, and errors naming the file and key."""

from __future__ import annotations

import optuna
import pytest

from harness.app.tune.space import parse_space
from harness.core.errors import BadInputError


def test_ranges_choices_and_objectives():
    space = parse_space({
        "training.learning_rate": {"low": 1.0e-4, "high": 1.0e-2, "log": True},
        "peft.r": {"choices": [4, 8, 16]},
        "dataset.replay.ratio": {"low": 0.0, "high": 0.3},
        "training.max_steps": {"low": 10, "high": 30, "step": 10},
        "objectives": [{"metric": "medqa.accuracy"},
                       {"metric": "general.accuracy", "delta_vs_base": True,
                        "direction": "minimize"}],
        "sampler": "random", "seed": 3}, "space.yaml")
    assert [p.key for p in space.params] == ["training.learning_rate", "peft.r",
                                             "dataset.replay.ratio", "training.max_steps"]
    assert [o.name for o in space.objectives] == ["medqa.accuracy", "forgetting general.accuracy"]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    values = {p.key: p.suggest(trial) for p in space.params}
    assert 1e-4 <= values["training.learning_rate"] <= 1e-2
    assert values["peft.r"] in (4, 8, 16)
    assert 0.0 <= values["dataset.replay.ratio"] <= 0.3
    assert values["training.max_steps"] in (10, 20, 30) and isinstance(values["training.max_steps"], int)
    assert space.params[1].override(8) == "peft.r=8"


@pytest.mark.parametrize("data, message", [
    ({"training.learning_rate": {"low": 1, "hgh": 2}}, "unknown keys ['hgh']"),
    ({"training.learning_rate": {"low": 0.0, "high": 1.0, "log": True}}, "log range needs 'low' > 0"),
    ({"training.learning_rate": {"low": 2, "high": 1}}, "must be below 'high'"),
    ({"peft.r": {"choices": []}}, "non-empty list"),
    ({"learning_rate": {"low": 1, "high": 2}}, "neither a config key"),
    ({"peft.r": {"choices": [4]}, "objectives": [{"metric": "medqa"}]}, "SUITE.METRIC"),
    ({"peft.r": {"choices": [4]}, "sampler": "grid"}, "tpe or random"),
    ({"objectives": []}, "no parameter to search"),
])
def test_bad_space_names_file_and_key(data, message):
    with pytest.raises(BadInputError) as caught:
        parse_space(data, "space.yaml")
    assert message in str(caught.value) and "space.yaml" in str(caught.value)


def test_unknown_config_key_is_refused_before_any_trial(tmp_path):
    from harness.app.defaults import load_default_config
    from harness.app.tune import Study

    space = parse_space({"training.learnng_rate": {"low": 1e-4, "high": 1e-3}}, "space.yaml")
    with pytest.raises(BadInputError) as caught:
        Study(space, load_default_config, tmp_path, 2)
    assert "training.learnng_rate" in str(caught.value)
