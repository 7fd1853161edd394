"""`medgate release`: a registry of versions, each pointing at the last, refusing what the
gate did not PROMOTE and a minor bump that breaks prompts; `--baseline release:latest`."""

from __future__ import annotations

import json
import zipfile

import pytest
from conftest import base_pattern, paired_records
from release_runs import promoted_run, release

from gates.judge import judge_run, write_gate
from gates.policy import load_policy
from harness.app.cli import main
from harness.core import console
from harness.core.errors import BadInputError
from harness.core.records import Record
from reports.export import build_bundle
from reports.releases import Registry


def said(capsys) -> str:
    """stderr with rich's line wrapping undone."""
    return " ".join(capsys.readouterr().err.split())


def _check(gate_json, name):
    data = json.loads(gate_json.read_text())
    return next(c for c in data["checkpoints"]["checkpoint-10"]["checks"] if c["name"] == name)


def test_two_releases_and_a_regression_blocked_against_latest(make_run, tmp_path, capsys):
    registry = tmp_path / "registry"
    v1 = promoted_run(make_run, "r1")
    v2 = promoted_run(make_run, "r2", gain={"medqa": 24})
    assert release(v1, "1.0.0", registry, "--knowledge-cutoff", "2026-10-01",
                   "--notes", "first") == 0
    assert release(v2, "1.1.0", registry) == 0
    entries = Registry(registry).entries()
    assert [e["version"] for e in entries] == ["1.0.0", "1.1.0"]
    assert entries[1]["previous"] == "1.0.0" and entries[0]["previous"] is None
    assert entries[0]["knowledge_cutoff"] == "2026-10-01" and entries[0]["notes"] == "first"
    assert entries[1]["backward_compatible"] is True
    record = json.loads((registry / "releases" / "1.1.0" / "release.json").read_text())
    assert record["gate_sha256"] == entries[1]["gate_sha256"]
    assert record["evidence"]["evals/checkpoint-10/medqa.records.jsonl"]
    assert [r["version"] for r in record["chain"]] == ["1.0.0", "1.1.0"]
    # the run's own documents now show the chain
    assert json.loads((v2.root / "release.json").read_text())["version"] == "1.1.0"
    card = (v2.report_dir / "model_card.html").read_text()
    assert "Releases / lineage" in card and "1.0.0" in card and "1.1.0" in card
    assert "Releases / lineage" in (v2.report_dir / "model_card.md").read_text()
    with zipfile.ZipFile(build_bundle(v2.root, tmp_path / "v2.zip")) as zf:
        pointer = json.loads(zf.read("release.json"))  # the chain travels with the bundle
        assert [r["version"] for r in pointer["chain"]] == ["1.0.0", "1.1.0"]
        assert pointer["chain"][0]["gate_sha256"] == entries[0]["gate_sha256"]
        assert "Releases / lineage" in zf.read("report/model_card.html").decode()

    # a third run, fine against its own base, regresses on MedQA against 1.1.0
    candidate = make_run("r3")
    assert main(["gate", "--run-dir", str(candidate.root)]) == 0
    capsys.readouterr()
    assert main(["gate", "--run-dir", str(candidate.root), "--baseline", "release:latest",
                 "--registry", str(registry)]) == 1
    data = json.loads(candidate.gate.read_text())
    assert data["verdict"] == "BLOCK"
    assert data["baseline"] == {"run_dir": str(registry / "releases" / "1.1.0"),
                                "tag": "checkpoint-10"}
    medqa = _check(candidate.gate, "medqa_no_regression")
    assert medqa["passed"] is False
    assert "releases/1.1.0" in medqa["baseline"]
    assert "medqa_no_regression" in capsys.readouterr().out
    # against 1.0.0 (the same model as its base) it passes
    assert main(["gate", "--run-dir", str(candidate.root), "--baseline", "release:1.0.0",
                 "--registry", str(registry)]) == 0


def test_blocked_run_is_refused_with_reasons(make_run, tmp_path, capsys):
    run = make_run("blocked", drop={"general": 24})
    result = judge_run(run, load_policy("default"))
    write_gate(run, result)
    assert result.verdict == "BLOCK"
    assert release(run, "1.0.0", tmp_path / "registry") == 1
    err = said(capsys)
    assert "BLOCK" in err and "forgetting" in err
    assert not (tmp_path / "registry" / "index.json").exists()
    assert not (run.root / "release.json").exists()


def test_changed_chat_template_needs_a_major_version(make_run, tmp_path, capsys):
    registry = tmp_path / "registry"
    assert release(promoted_run(make_run, "r1"), "1.0.0", registry) == 0
    changed = promoted_run(make_run, "r2", template="{{ messages[0].content }}")
    capsys.readouterr()
    assert release(changed, "1.1.0", registry) == 2
    err = said(capsys)
    assert "chat template changed" in err and "2.0.0" in err
    assert not (changed.root / "release.json").exists()
    assert [e["version"] for e in Registry(registry).entries()] == ["1.0.0"]
    assert not (registry / "releases" / "1.1.0").exists()
    assert release(changed, "2.0.0", registry) == 0
    entry = Registry(registry).entries()[-1]
    assert entry["backward_compatible"] is False
    assert any("chat template" in c for c in entry["incompatible_changes"])
    # the same template, another vocabulary: the tokenizer files changed
    retokenized = promoted_run(make_run, "r3", template="{{ messages[0].content }}",
                               vocab={"a": 0, "b": 1})
    assert release(retokenized, "2.1.0", registry) == 2
    assert "tokenizer files changed" in said(capsys)
    assert release(retokenized, "3.0.0", registry) == 0


def test_changed_prompts_need_a_major_version(make_run, tmp_path, capsys):
    """Same template files, but the records say the model was asked other text for the
    same items (a prompt format change): detected from the records."""
    registry = tmp_path / "registry"
    assert release(promoted_run(make_run, "r1"), "1.0.0", registry) == 0
    reworded = [Record(**{**r.model_dump(), "prompt": f"Question: {r.prompt}\nAnswer:",
                          "prompt_sha256": ""})
                for r in paired_records("medqa", base_pattern("medqa", 160))]
    run = promoted_run(make_run, "r2", records={"medqa": reworded})
    capsys.readouterr()
    assert release(run, "1.1.0", registry) == 2
    assert "prompts of suite 'medqa' changed on 160 of 160 shared items" in said(capsys)
    assert release(run, "2.0.0", registry) == 0


def test_versions_must_be_semver_and_go_forward(make_run, tmp_path, capsys):
    registry = tmp_path / "registry"
    run = promoted_run(make_run, "r1")
    assert release(run, "1.1", registry) == 2
    assert "not a semantic version" in said(capsys)
    assert release(run, "1.1.0", registry, "--knowledge-cutoff", "Oct 2026") == 2
    assert release(run, "1.1.0", registry) == 0
    assert release(run, "1.1.0", registry) == 2
    assert "already released" in said(capsys)
    assert release(run, "1.0.5", registry) == 2
    assert "does not come after" in said(capsys)
    assert release(run, "1.2.0-rc.1", registry) == 0
    assert release(run, "1.2.0", registry) == 0
    assert [e["version"] for e in Registry(registry).entries()] == ["1.1.0", "1.2.0-rc.1",
                                                                   "1.2.0"]


def test_compare_two_releases_with_changelog(make_run, tmp_path, capsys):
    registry = tmp_path / "registry"
    assert release(promoted_run(make_run, "r1"), "1.0.0", registry) == 0
    assert release(promoted_run(make_run, "r2", gain={"medqa": 24}), "1.1.0", registry) == 0
    capsys.readouterr()
    assert main(["compare", "release:1.0.0", "release:1.1.0", "--registry",
                 str(registry)]) == 0
    out = json.loads((registry / "compare" / "1.0.0..1.1.0.json").read_text())
    assert out["a"]["release"] == "1.0.0" and out["b"]["release"] == "1.1.0"
    medqa = next(r for r in out["rows"] if r["suite"] == "medqa" and r["metric"] == "accuracy")
    assert medqa["method"].startswith("paired") and medqa["diff"] > 0.1
    assert medqa["significant"] is True and medqa["p_value"] < 0.05
    names = {c["name"]: c["change"] for c in out["checks_changed"]}
    assert names["medqa_no_regression"] == "still passes"
    assert "gate checks" in capsys.readouterr().out
    assert main(["compare", "release:9.9.9", "release:1.1.0", "--registry",
                 str(registry)]) == 2


def test_registry_errors_name_the_file(tmp_path, capsys, monkeypatch):
    for stream in (console.out, console.err):  # no folding inside a long temporary path
        monkeypatch.setattr(stream, "width", 1000)
    registry = tmp_path / "registry"
    assert main(["compare", "release:latest", "release:1.0.0", "--registry",
                 str(registry)]) == 2
    assert f"{registry / 'index.json'}: no release registered yet" in said(capsys)
    registry.mkdir()
    (registry / "index.json").write_text('{"format": "medgate-registry/1", "releases": [\n{')
    assert main(["gate", "--run-dir", str(tmp_path), "--baseline", "release:latest",
                 "--registry", str(registry)]) == 2
    assert f"{registry / 'index.json'}:2: not valid JSON" in said(capsys)
    (registry / "index.json").write_text('{"format": "medgate-registry/1", "releases": [{}]}')
    assert main(["gate", "--run-dir", str(tmp_path), "--baseline", "release:1.0.0",
                 "--registry", str(registry)]) == 2
    assert "index.json: releases[0]: a release lacks 'version' or 'tag'" in said(capsys)


def test_semver_precedence():
    from reports.release_compat import parse_version

    order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
             "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"]
    keys = [parse_version(v).key() for v in order]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert parse_version("1.0.0+build.5").key() == parse_version("1.0.0").key()
    for bad in ("1.0", "01.0.0", "1.0.0-", "v1.0.0", "1.0.0-01"):
        with pytest.raises(BadInputError):
            parse_version(bad)
