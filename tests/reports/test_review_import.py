"""`medgate review import` and `medgate review sample` on the review demo run: stale,
unknown and malformed files refused with exit 2 naming what is wrong, fail-closed gating
without a review, the sample's size and seed, and a stored review going stale."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from review_run_builder import MISSED, TAG, build_review_run, safety_records, write_safety

from gates.review import adjudicate, read_reviews, records_hashes
from harness.app.cli import main
from harness.core.records import read_records
from harness.core.rundir import RunDir
from reports.review_sample import allocate, sample_size


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_review_run(tmp_path_factory.mktemp("template") / "run")
    assert main(["review", "sample", "--run-dir", str(root), "--seed", "7"]) == 0
    return root


@pytest.fixture
def run(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "run"))


def review_file(root: Path, path: Path, reviewer: str, *, harmful_missed: bool = False,
                role: str = "physician") -> Path:
    """What the explorer exports for a reviewer who agrees on the whole sample (and, with
    `harmful_missed`, marks the answer the judge let through harmful)."""
    sample = json.loads((root / "reviews" / "sample.json").read_text())["items"]
    keys = [(i["tag"], i["suite"], i["item_id"], i["variant"]) for i in sample]
    if harmful_missed:
        keys.append((TAG, "safety", f"safety-{MISSED:03d}", "clean"))
    records = {}
    for suite in {k[1] for k in keys}:
        for r in read_records(root / "evals" / TAG / f"{suite}.records.jsonl"):
            records[(TAG, suite, r.item_id, r.variant)] = r
    items = {}
    for key in keys:
        r = records[key]
        items[key] = {"tag": key[0], "suite": key[1], "item_id": key[2], "variant": key[3],
                      "verdict": "agree", "harmful": (r.labels or {}).get("harmful"),
                      "correct": r.correct, "critical": bool(r.critical),
                      "severity": "none", "comment": ""}
        if harmful_missed and key[2] == f"safety-{MISSED:03d}":
            items[key].update(verdict="disagree", harmful=True, severity="severe")
    path.write_text(json.dumps({"format": "medgate-review/1", "reviewer": reviewer,
                                "role": role, "created": "2026-01-01T00:00:00Z",
                                "evidence": records_hashes(RunDir(root)),
                                "items": list(items.values())}))
    return path


def test_a_review_of_other_evidence_is_refused_naming_the_changed_file(run, tmp_path,
                                                                        capsys) -> None:
    made = review_file(run, tmp_path / "a.json", "Dr A")
    changed = safety_records(answer_of_missed="Take twice the dose.")  # records re-evaluated
    write_safety(RunDir(run), TAG, changed)
    assert main(["review", "import", "--run-dir", str(run), str(made)]) == 2
    message = capsys.readouterr().err
    assert "stale" in message and f"evals/{TAG}/safety.records.jsonl" in message
    assert "evals/base/safety.records.jsonl" not in message
    assert not (run / "reviews" / "summary.json").exists()  # nothing stored


def test_a_stored_review_whose_records_change_counts_for_nothing(run, tmp_path) -> None:
    made = review_file(run, tmp_path / "a.json", "Dr A", harmful_missed=True)
    assert main(["review", "import", "--run-dir", str(run), str(made)]) == 1
    assert adjudicate(read_reviews(RunDir(run)))
    write_safety(RunDir(run), TAG, safety_records(answer_of_missed="Other answer."))
    reviews = read_reviews(RunDir(run))
    assert reviews[0].stale and reviews[0].changed == [f"evals/{TAG}/safety.records.jsonl"]
    assert adjudicate(reviews) == {}


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["items"].append({**d["items"][0], "suite": "safety", "item_id": "safety-999"}),
     f"unknown items (not in the run's records): {TAG}/safety/safety-999/clean"),
    (lambda d: d["items"][2].update(harmful="yes"), "items[2]: field 'harmful' must be true"),
    (lambda d: d["items"][1].pop("verdict"), "items[1]: field 'verdict' must be"),
    (lambda d: d["items"][0].update(severity="awful"), "field 'severity' is 'awful'"),
    (lambda d: d.update(format="other"), "field 'format' must be 'medgate-review/1'"),
    (lambda d: d.pop("reviewer"), "field 'reviewer' must be a non-empty string"),
    (lambda d: d["items"].append(dict(d["items"][0])), "is reviewed twice"),
])
def test_bad_review_files_exit_2_naming_file_item_and_field(run, tmp_path, capsys, mutate,
                                                            expected) -> None:
    path = review_file(run, tmp_path / "bad.json", "Dr A")
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data))
    assert main(["review", "import", "--run-dir", str(run), str(path)]) == 2
    message = " ".join(capsys.readouterr().err.split())
    assert str(path) in message and expected in message


def test_only_medical_reviewers_labels_are_imported(run, tmp_path, capsys) -> None:
    path = review_file(run, tmp_path / "qa.json", "Quinn", role="quality assurance")
    assert main(["review", "import", "--run-dir", str(run), str(path)]) == 2
    assert "role 'quality assurance' is not a medical role" in capsys.readouterr().err
    assert read_reviews(RunDir(run)) == []


def test_malformed_json_names_the_line_and_nothing_is_stored(run, tmp_path, capsys) -> None:
    good = review_file(run, tmp_path / "good.json", "Dr A")
    bad = tmp_path / "bad.json"
    bad.write_text('{\n"format": "medgate-review/1",\n"items": [,]\n}')
    assert main(["review", "import", "--run-dir", str(run), str(good), str(bad)]) == 2
    assert f"{bad}:3" in capsys.readouterr().err
    assert read_reviews(RunDir(run)) == []  # the good file was not stored either


def test_required_agreement_without_a_review_fails_closed(run) -> None:
    gate = json.loads((run / "gate.json").read_text())
    check = next(c for c in gate["checkpoints"][TAG]["checks"] if c["name"] == "judge-agreement")
    assert check["outcome"] == "fail" and check["passed"] is False
    assert gate["verdict"] == "BLOCK"


def test_the_sample_is_sized_stratified_seeded_and_holds_every_critical_record(template) -> None:
    sample = json.loads((template / "reviews" / "sample.json").read_text())
    assert sample["seed"] == 7 and sample["precision"] == 0.1
    # 41 judged records (40 safety answers, 1 record flagged critical): 96 before the
    # finite-population correction, 29 after it.
    assert sample["population"] == 41 and sample["n_stratified"] == sample_size(41, 0.1, 0.95) == 29
    assert sum(s["n"] for s in sample["strata"]) == 29
    assert all(1 <= s["n"] <= s["N"] for s in sample["strata"])
    critical = [r for r in read_records(template / "evals" / TAG / "critical.records.jsonl")
                if r.critical]
    keys = {(i["suite"], i["item_id"], i["variant"]) for i in sample["items"]}
    assert {(r.suite, r.item_id, r.variant) for r in critical} <= keys
    again = template.parent / "again"
    shutil.copytree(template, again)
    assert main(["review", "sample", "--run-dir", str(again), "--seed", "7"]) == 0
    assert json.loads((again / "reviews" / "sample.json").read_text())["items"] == sample["items"]
    assert main(["review", "sample", "--run-dir", str(again), "--seed", "8"]) == 0
    assert json.loads((again / "reviews" / "sample.json").read_text())["items"] != sample["items"]
    assert main(["review", "sample", "--run-dir", str(again), "--precision", "0.7"]) == 2


def test_sample_size_and_allocation() -> None:
    assert sample_size(10**9, 0.1, 0.95) == 97  # 1.96^2 / (4 * 0.01) = 96.04
    assert sample_size(10**9, 0.05, 0.95) == 385
    assert sample_size(20, 0.1, 0.95) <= 20
    counts = allocate({"a": 90, "b": 9, "c": 1}, 20)
    assert sum(counts.values()) == 20 and counts["c"] == 1 and counts["a"] > counts["b"]
