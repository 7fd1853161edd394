import pytest

from harness.core.config import load_config
from harness.core.errors import BadInputError


def test_typo_section_is_named(tmp_path):
    path = tmp_path / "medgate.yaml"
    path.write_text("trainng:\n  max_steps: 3\n")
    with pytest.raises(BadInputError, match=r"unknown key 'trainng'"):
        load_config(path)


def test_wrong_type_names_key_path(tmp_path):
    path = tmp_path / "medgate.yaml"
    path.write_text("training:\n  learning_rate: fast\n")
    with pytest.raises(BadInputError, match=r"training\.learning_rate"):
        load_config(path)


def test_set_overrides_any_key():
    cfg = load_config(overrides=["training.max_steps=30", "peft.target_modules=[q_proj,v_proj]",
                                 "evaluation.data.medqa=/x.jsonl"])
    assert cfg.training.max_steps == 30
    assert cfg.peft.target_modules == ["q_proj", "v_proj"]
    assert cfg.evaluation.data == {"medqa": "/x.jsonl"}


def test_set_unknown_key_is_an_error():
    with pytest.raises(BadInputError, match="training.max_stepz"):
        load_config(overrides=["training.max_stepz=3"])


def test_token_never_in_public_dict():
    cfg = load_config(overrides=["model.hf_token=hf_abcdefghijklmnopqrstuvwxyz"])
    assert cfg.hf_token() == "hf_abcdefghijklmnopqrstuvwxyz"
    assert "hf_abcdefghijklmnopqrstuvwxyz" not in str(cfg.to_public_dict())
