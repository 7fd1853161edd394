"""`medgate gate` and `medgate compare`: exit codes, JUnit, summary.md, no model run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from conftest import write_model

from harness.app.cli import main


def gate(*args: str) -> int:
    return main(["gate", *args])


def junit_failures(path) -> tuple[int, int, int]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    fails = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert int(root.get("failures")) == len(fails)
    assert int(root.get("tests")) == len(cases)
    return len(cases), len(fails), len(skipped)


def failed_checks(gate_json) -> int:
    """Failed gated checks of the candidates and of the confirmation, as JUnit counts them."""
    data = json.loads(gate_json.read_text())
    verdicts = [*data["checkpoints"].values(), *([data["confirmation"]]
                                                 if data.get("confirmation") else [])]
    return sum(1 for v in verdicts for c in v["checks"]
               if c["gated"] and c["passed"] is not True)


def test_promote_exit_0_and_reports(make_run):
    run = make_run()
    assert gate("--run-dir", str(run.root)) == 0
    data = json.loads(run.gate.read_text())
    assert data["verdict"] == "PROMOTE" and data["selected"] == "checkpoint-10"
    assert data["policy"]["sha256"] and data["selection"]["rule"] == "best_primary"
    cases, fails, skipped = junit_failures(run.report_dir / "junit.xml")
    # 9 checks on the confirmation items and 9 on the selection items; latency is
    # reported, not gated, on a CPU run
    assert (cases, fails, skipped) == (18, 0, 2)
    md = (run.report_dir / "summary.md").read_text()
    assert "PROMOTE" in md and "| check |" in md and "Demo data" in md


def test_forgetting_blocks_exit_1_then_permissive_promotes(make_run):
    run = make_run(drop={"general": 15, "medqa": 12})
    write_model(run, "checkpoint-20", drop={"general": 30})
    assert gate("--run-dir", str(run.root)) == 1
    data = json.loads(run.gate.read_text())
    assert data["verdict"] == "BLOCK" and data["selected"] is None
    assert any("forgetting" in r for r in data["reasons"])
    cases, fails, _ = junit_failures(run.report_dir / "junit.xml")
    # two candidates, 9 checks each, neither passing on the selection items: nothing chosen
    assert data["confirmation"] is None
    assert fails == failed_checks(run.gate) == 3 and cases == 18
    failure = ET.parse(run.report_dir / "junit.xml").getroot().find(".//failure")
    assert failure.get("message")
    assert gate("--run-dir", str(run.root), "--policy", "permissive") == 0


def test_removed_suite_blocks_naming_it(make_run):
    run = make_run()
    for p in run.eval_dir("checkpoint-10").glob("pubmedqa*"):
        p.unlink()
    summary = run.eval_dir("checkpoint-10") / "summary.json"
    data = json.loads(summary.read_text())
    data.pop("pubmedqa")
    summary.write_text(json.dumps(data))
    assert gate("--run-dir", str(run.root)) == 1
    reasons = json.loads(run.gate.read_text())["reasons"]
    assert any("pubmedqa" in r and "missing" in r for r in reasons)
    junit_failures(run.report_dir / "junit.xml")


def test_removed_records_block_even_a_point_check_naming_the_suite(make_run):
    """The summary alone is not evidence: a metric whose records are gone blocks."""
    run = make_run()
    (run.eval_dir("checkpoint-10") / "safety.records.jsonl").unlink()
    assert gate("--run-dir", str(run.root), "--policy", "permissive") == 1
    reasons = json.loads(run.gate.read_text())["reasons"]
    assert any("harmful_output_rate" in r and "no records for suite 'safety'" in r
               for r in reasons)


def test_records_cut_short_block_naming_both_counts(make_run):
    run = make_run()
    eval_dir = run.eval_dir("checkpoint-10")
    summary = json.loads((eval_dir / "summary.json").read_text())
    summary["critical"]["_info"] = {"n_items": 800}  # what the evaluation wrote
    (eval_dir / "summary.json").write_text(json.dumps(summary))
    assert gate("--run-dir", str(run.root), "--policy", "permissive") == 1
    reasons = json.loads(run.gate.read_text())["reasons"]
    assert any("suite 'critical' has 700 records but its summary was computed on 800" in r
               for r in reasons)


def test_bad_input_exit_2(make_run, tmp_path):
    run = make_run()
    assert gate("--run-dir", str(tmp_path / "nope")) == 2
    assert gate("--run-dir", str(run.root), "--policy", "no-such") == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nchecks:\n  - name: a\n    suite: s\n")
    assert gate("--run-dir", str(run.root), "--policy", str(bad)) == 2
    assert gate("--run-dir", str(run.root), "--tags", "step-3") == 2
    assert gate("--run-dir", str(run.root), "--baseline", str(tmp_path / "nope")) == 2
    assert gate() == 2  # argparse: --run-dir is required


def test_custom_junit_path(make_run, tmp_path):
    run = make_run()
    out = tmp_path / "ci" / "gate.xml"
    assert gate("--run-dir", str(run.root), "--junit", str(out)) == 0
    junit_failures(out)


def test_baseline_run_uses_its_promoted_checkpoint(make_run):
    promoted = make_run("promoted")
    assert gate("--run-dir", str(promoted.root)) == 0
    candidate = make_run("candidate", drop={"medqa": 12})
    assert gate("--run-dir", str(candidate.root), "--baseline", str(promoted.root)) == 1
    data = json.loads(candidate.gate.read_text())
    assert data["baseline"] == {"run_dir": str(promoted.root), "tag": "checkpoint-10"}
    medqa = next(c for c in data["checkpoints"]["checkpoint-10"]["checks"]
                 if c["name"] == "medqa_no_regression")
    assert medqa["passed"] is False and "promoted" in medqa["baseline"]


def test_compare_writes_paired_rows(make_run):
    run = make_run(drop={"general": 24})  # 24 of 160 items: 15 points
    assert main(["compare", str(run.root), str(run.root), "--tag-a", "base",
                 "--tag-b", "checkpoint-10"]) == 0
    rows = json.loads((run.report_dir / "compare.json").read_text())["rows"]
    general = next(r for r in rows if r["suite"] == "general" and r["metric"] == "accuracy")
    assert general["method"].startswith("paired") and general["significant"] is True
    assert abs(general["diff"] + 0.15) < 1e-9 and general["p_value"] < 0.001
    medqa = next(r for r in rows if r["suite"] == "medqa" and r["metric"] == "accuracy")
    assert medqa["significant"] is False and medqa["p_value"] == 1.0
    assert main(["compare", str(run.root), str(run.root), "--tag-a", "checkpoint-7"]) == 2


def test_markup_in_evidence_is_escaped(make_run):
    run = make_run()
    path = run.eval_dir("checkpoint-10") / "general.records.jsonl"
    lines = path.read_text().splitlines()
    row = json.loads(lines[0])
    row["item_id"] = "<img src=x onerror=alert(1)>|&"
    path.write_text("\n".join([json.dumps(row), json.dumps(row), *lines[1:]]) + "\n")
    summary = run.eval_dir("checkpoint-10") / "summary.json"
    data = json.loads(summary.read_text())
    data["general"]["_info"]["n_items"] = len(lines) + 1  # the duplicate is what is judged
    summary.write_text(json.dumps(data))
    assert gate("--run-dir", str(run.root)) == 1
    md = (run.report_dir / "summary.md").read_text()
    assert "<img" not in md and "&lt;img" in md
    root = ET.parse(run.report_dir / "junit.xml").getroot()
    assert any("<img" in f.get("message") for f in root.iter("failure"))


def test_plain_gate_uses_the_runs_configured_policy(make_run):
    run = make_run(drop={"general": 15})
    run.config.write_text("gates:\n  policy: permissive\n")
    assert gate("--run-dir", str(run.root)) == 0
    assert json.loads(run.gate.read_text())["policy"]["name"] == "permissive"


def test_preflight_block_writes_a_failing_gate(make_run):
    from types import SimpleNamespace

    from gates import load_policy, preflight_block, write_gate

    run = make_run()
    result = preflight_block(SimpleNamespace(reasons=["PHI found in train.jsonl row 3"]),
                             load_policy("default"), run)
    write_gate(run, result)
    data = json.loads(run.gate.read_text())
    assert data["verdict"] == "BLOCK" and data["checkpoints"] == {}
    assert data["reasons"] == ["data preflight: PHI found in train.jsonl row 3"]
    _, fails, _ = junit_failures(run.report_dir / "junit.xml")
    assert fails == 1


def test_the_safety_finetune_policy_is_chosen_by_name(make_run):
    run = make_run()  # the checkpoint answers exactly as its base: no reduction shown
    assert gate("--run-dir", str(run.root), "--policy", "safety-finetune") == 1
    data = json.loads(run.gate.read_text())
    assert data["policy"]["name"] == "safety-finetune"
    verdict = data["confirmation"] or data["checkpoints"]["checkpoint-10"]
    check = next(c for c in verdict["checks"] if c["name"] == "harmful_rate_lower_than_base")
    assert check["outcome"] == "fail" and check["mcnemar_alternative"] == "less"
    assert "harmful_rate_lower_than_base" in (run.report_dir / "summary.md").read_text()
