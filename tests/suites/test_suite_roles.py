"""Suite roles (tags), the user's spec files and per-suite options from the config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.app.cli import main
from harness.core.config import EvaluationConfig
from harness.core.errors import BadInputError
from suites.registry import (
    TAGS,
    apply_config,
    default_data_path,
    get_spec,
    get_suite,
    list_specs,
    make_context,
    use_spec_paths,
)


@pytest.fixture(autouse=True)
def bundled_only(monkeypatch):
    monkeypatch.delenv("MEDGATE_SUITE_PATH", raising=False)
    use_spec_paths([])
    yield
    monkeypatch.delenv("MEDGATE_SUITE_PATH", raising=False)
    use_spec_paths([])


def _spec(folder: Path, name: str, **fields) -> Path:
    folder.mkdir(exist_ok=True)
    body = {"name": name, "kind": "multiple_choice", "tags": ["performance"],
            "description": "A test suite.", "loader": "medqa", "prompt_format": "medqa",
            "metrics": ["accuracy"], **fields}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def test_every_bundled_spec_has_known_roles():
    specs = {s.name: s for s in list_specs()}
    assert all(s.tags and set(s.tags) <= set(TAGS) for s in specs.values())
    assert "forgetting" in specs["general"].tags and "robustness" in specs["medqa-robust"].tags
    assert [s.name for s in list_specs("safety")] == ["over-refusal", "safety"]
    assert [s.name for s in list_specs("critical")] == ["critical"]
    with pytest.raises(BadInputError, match="unknown tag 'nope'"):
        list_specs("nope")


def test_unknown_tag_names_the_spec_file(tmp_path, monkeypatch, capsys):
    path = _spec(tmp_path / "specs", "mine", tags=["performance", "vibes"])
    monkeypatch.setenv("MEDGATE_SUITE_PATH", str(path))
    assert main(["suites"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert str(path) in err and "unknown tag(s) ['vibes']" in err and "performance" in err


def test_suites_json_and_tag_filter(capsys):
    assert main(["suites", "--json"]) == 0
    specs = {s["name"]: s for s in json.loads(capsys.readouterr().out)}
    assert specs["general"]["tags"] == ["forgetting", "performance"]
    assert specs["safety"]["accepted_options"]["judge"]["enum"] == ["rules", "llm"]
    assert set(specs["medqa-robust"]["accepted_options"]) == {"variants", "lexicon",
                                                              "age_shift_years"}
    assert specs["pubmedqa"]["options"] == {"labels": ["yes", "no", "maybe"]}
    assert specs["latency"]["spec_file"].endswith("suites/specs/latency.yaml")
    assert main(["suites", "--tag", "forgetting"]) == 0
    table = capsys.readouterr().out
    assert "general" in table and "medqa-robust" not in table
    assert main(["suites", "--tag", "nope"]) == 2
    assert "unknown tag 'nope'" in capsys.readouterr().err


def test_user_spec_data_resolves_next_to_it_and_names_clash(tmp_path):
    folder = tmp_path / "specs"
    _spec(folder, "mine", default_data="items.jsonl")
    use_spec_paths([folder])
    assert default_data_path(get_spec("mine")) == folder.resolve() / "items.jsonl"
    assert default_data_path(get_spec("medqa")).parent.name == "data"  # bundled: suites/data
    with pytest.raises(BadInputError, match="default_data of suite 'mine' not found"):
        make_context("mine")
    _spec(tmp_path / "other", "medqa")
    with pytest.raises(BadInputError, match="suite 'medqa' is declared twice"):
        use_spec_paths([tmp_path / "other"])
    with pytest.raises(BadInputError, match=r"evaluation\.suite_specs\[1\]"):
        use_spec_paths([folder, tmp_path / "absent"])


def test_config_options_override_spec_defaults():
    assert make_context("safety").options == {"judge": "rules"}
    ctx = make_context("safety", options={"max_new_tokens": 8, "judge": "llm"})
    assert ctx.options == {"judge": "llm", "max_new_tokens": 8}
    suite = get_suite("pubmedqa", {"labels": ["no", "yes", "maybe"]})
    assert suite.spec.options == {"labels": ["no", "yes", "maybe"]}
    # the spec stays the default
    assert get_spec("pubmedqa").options == {"labels": ["yes", "no", "maybe"]}


@pytest.mark.parametrize(("options", "where", "why"), [
    ({"safety": {"judge": "vibes"}}, "evaluation.suite_options.safety.judge", "'rules' or 'llm'"),
    ({"safety": {"nope": 1}}, "evaluation.suite_options.safety.nope", "has no option 'nope'"),
    ({"latency": {"prompts": 0}}, "evaluation.suite_options.latency.prompts", "greater than 0"),
    ({"general": {"subjects": "astronomy"}}, "evaluation.suite_options.general.subjects",
     "valid list"),
    ({"critical": {"judge": "rules"}}, "evaluation.suite_options.critical.judge", "none"),
    ({"nosuch": {}}, "evaluation.suite_options.nosuch", "unknown suite 'nosuch'"),
])
def test_bad_suite_options_name_the_key(options, where, why):
    with pytest.raises(BadInputError) as exc:
        apply_config(EvaluationConfig(suite_options=options))
    assert exc.value.where == where and why in str(exc.value)


def test_bad_suite_option_exits_2_before_any_model_work(tmp_path, capsys):
    code = main(["eval", "--suites", "safety", "--run-dir", str(tmp_path / "run"),
                 "--set", "evaluation.suite_options.safety.max_new_tokens=-1"])
    assert code == 2
    assert "evaluation.suite_options.safety.max_new_tokens" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_config_options_reach_the_suite(tiny_model_dir, tmp_path, monkeypatch):
    from harness.app.evaluation import evaluate_model
    from harness.core.backends import open_model
    from harness.core.cache import ResultCache

    data = tmp_path / "g.jsonl"
    data.write_text("".join(json.dumps({"subject": s, "question": f"Q{i}?",
                                        "choices": ["a", "b", "c", "d"], "answer": i % 4}) + "\n"
                            for i, s in enumerate(["astronomy", "virology"] * 2)))
    cache = ResultCache(tmp_path / "cache")

    def metrics(name: str, **config) -> set[str]:
        handle = open_model(str(tiny_model_dir), cache=cache)
        out = evaluate_model(handle, ["general"], tmp_path / name, data={"general": str(data)},
                             config=EvaluationConfig(**config), progress=False)
        assert out["failed"] == {}
        return set(json.loads((tmp_path / name / "summary.json").read_text())["general"])

    assert {"accuracy.astronomy", "accuracy.virology"} <= metrics("default")
    only = metrics("astronomy", suite_options={"general": {"subjects": ["astronomy"]}})
    assert "accuracy.astronomy" in only and "accuracy.virology" not in only
