"""Every way evidence can be missing or broken fails its check with that reason."""

from __future__ import annotations

import json

from conftest import write_model

from gates.judge import judge_checkpoint, judge_run
from gates.policy import load_policy
from harness.core.records import Record, write_records
from harness.core.rundir import RunDir


def checks_of(run: RunDir, tag: str = "checkpoint-10", policy: str = "default") -> dict:
    verdict = judge_checkpoint(run, tag, load_policy(policy))
    return verdict, {c.name: c for c in verdict.checks}


def edit_summary(run: RunDir, tag: str, fn) -> None:
    path = run.eval_dir(tag) / "summary.json"
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def test_clean_checkpoint_promotes(make_run):
    verdict, checks = checks_of(make_run())
    assert verdict.verdict == "PROMOTE"
    assert all(c.passed is True for c in checks.values() if c.gated)
    for c in checks.values():
        assert {"name", "metric", "value", "op", "threshold", "ci", "passed", "reason"} \
            <= set(c.model_dump())


def test_missing_suite_names_it(make_run):
    verdict, checks = checks_of(make_run(skip=("critical",)))
    assert verdict.verdict == "BLOCK"
    assert checks["critical_error_rate"].passed is False
    assert "suite 'critical' missing" in checks["critical_error_rate"].reason


def test_missing_metric(make_run):
    run = make_run()
    edit_summary(run, "checkpoint-10", lambda d: d["safety"].pop("harmful_rate"))
    _, checks = checks_of(run)
    assert "metric 'safety.harmful_rate' missing" in checks["harmful_output_rate"].reason
    assert checks["harmful_output_rate"].passed is False


def test_crashed_suite(make_run):
    run = make_run()
    edit_summary(run, "checkpoint-10", lambda d: d.update({"medqa-robust": {"_error": "OOM"}}))
    _, checks = checks_of(run)
    assert "crashed: OOM" in checks["robust_consistency"].reason
    assert checks["robust_consistency"].passed is False


def test_nan_value(make_run):
    run = make_run()
    edit_summary(run, "checkpoint-10",
                 lambda d: d["medqa-robust"]["consistency"].update(value=None))
    _, checks = checks_of(run)
    assert "NaN" in checks["robust_consistency"].reason
    assert checks["robust_consistency"].passed is False


def test_nan_as_string_value(make_run):
    run = make_run()
    edit_summary(run, "checkpoint-10",
                 lambda d: d["medqa-robust"]["consistency"].update(value="NaN"))
    _, checks = checks_of(run)
    assert checks["robust_consistency"].passed is False


def test_too_few_items(make_run):
    verdict, checks = checks_of(make_run(sizes={"medqa": 20}))
    # The base has 100 medqa items; only 20 pair, below the check's min_n of 50.
    assert checks["medqa_no_regression"].passed is False
    assert "min_n=50" in checks["medqa_no_regression"].reason
    assert verdict.verdict == "BLOCK"


def test_summary_n_below_min_n(make_run):
    run = make_run(overrides={"critical": {"critical_error_rate": {
        "value": 0.0, "ci": [0.0, 0.3], "n": 10, "upper95": 0.26}}})
    _, checks = checks_of(run)
    assert "n=10" in checks["critical_error_rate"].reason
    assert checks["critical_error_rate"].passed is False


def test_n_not_reported(make_run):
    run = make_run(overrides={"medqa-robust": {"consistency": {"value": 0.99, "ci": None}}})
    _, checks = checks_of(run)
    assert "does not report n" in checks["robust_consistency"].reason


def test_missing_base_records(make_run):
    run = make_run()
    (run.eval_dir("base") / "general.records.jsonl").unlink()
    _, checks = checks_of(run)
    assert checks["forgetting"].passed is False
    assert "no records for suite 'general'" in checks["forgetting"].reason
    assert "base" in checks["forgetting"].reason


def test_missing_base_evaluation(make_run):
    run = make_run()
    for p in run.eval_dir("base").iterdir():
        p.unlink()
    verdict, checks = checks_of(run)
    assert verdict.verdict == "BLOCK"
    assert "base: no summary" in checks["medqa_no_regression"].reason


def test_missing_model_records(make_run):
    run = make_run()
    (run.eval_dir("checkpoint-10") / "pubmedqa.records.jsonl").unlink()
    _, checks = checks_of(run)
    assert "no records for suite 'pubmedqa'" in checks["pubmedqa_no_regression"].reason


def test_malformed_records_line(make_run):
    run = make_run()
    path = run.eval_dir("checkpoint-10") / "medqa.records.jsonl"
    path.write_text(path.read_text() + "{not json\n")
    _, checks = checks_of(run)
    assert "medqa.records.jsonl:101" in checks["medqa_no_regression"].reason
    assert checks["medqa_no_regression"].passed is False


def test_malformed_summary(make_run):
    run = make_run()
    (run.eval_dir("checkpoint-10") / "summary.json").write_text("{")
    verdict, checks = checks_of(run)
    assert verdict.verdict == "BLOCK"
    assert all(c.passed is False for c in checks.values() if c.gated)
    assert "not valid JSON" in checks["harmful_output_rate"].reason


def _rewrite(run, tag, suite, fn):
    path = run.eval_dir(tag) / f"{suite}.records.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    fn(rows)
    write_records(path, [Record.model_validate(r) for r in rows])


def test_duplicate_record(make_run):
    run = make_run()
    _rewrite(run, "checkpoint-10", "general", lambda rows: rows.append(dict(rows[0])))
    _, checks = checks_of(run)
    assert "duplicate record for item 'general-0'" in checks["forgetting"].reason


def test_prompt_mismatch_is_not_the_same_item(make_run):
    run = make_run()

    def change(rows):
        rows[3]["prompt"] = "another question"
        rows[3]["prompt_sha256"] = ""
    _rewrite(run, "checkpoint-10", "general", change)
    _, checks = checks_of(run)
    assert "different prompt" in checks["forgetting"].reason
    assert checks["forgetting"].passed is False


def test_unscored_record(make_run):
    run = make_run()
    _rewrite(run, "checkpoint-10", "medqa", lambda rows: rows[0].update(correct=None))
    _, checks = checks_of(run)
    assert "no 'correct'" in checks["medqa_no_regression"].reason


def test_unpaired_items_are_counted_not_hidden(make_run):
    run = make_run(sizes={"medqa": 80})
    _, checks = checks_of(run)
    c = checks["medqa_no_regression"]
    assert c.n == 80 and c.unpaired_base == 20 and "20 base-only" in c.reason


def test_latency_reported_not_gated_on_cpu(make_run):
    run = make_run(overrides={"latency": {"p95_s": {"value": 9.0, "ci": None, "n": 5}}})
    verdict, checks = checks_of(run)
    c = checks["latency_p95"]
    assert c.gated is False and c.passed is None and "reported only" in c.reason
    assert "would fail" in c.reason
    assert verdict.verdict == "PROMOTE"


def test_latency_gated_on_cuda(make_run):
    run = make_run(device="cuda:0",
                   overrides={"latency": {"p95_s": {"value": 9.0, "ci": None, "n": 5}}})
    verdict, checks = checks_of(run)
    assert checks["latency_p95"].gated is True and checks["latency_p95"].passed is False
    assert verdict.verdict == "BLOCK"


def test_latency_missing_on_cuda_fails(make_run):
    run = make_run(device="cuda", skip=("latency",))
    _, checks = checks_of(run)
    assert checks["latency_p95"].passed is False
    assert "suite 'latency' missing" in checks["latency_p95"].reason


def test_forgetting_blocks_and_permissive_promotes(make_run):
    run = make_run(drop={"general": 15})
    blocked = judge_run(run, load_policy("default"))
    assert blocked.verdict == "BLOCK" and blocked.selected is None
    assert any("forgetting" in r for r in blocked.reasons)
    assert judge_run(run, load_policy("permissive")).verdict == "PROMOTE"


def test_no_checkpoints_block(tmp_path):
    run = RunDir.create(tmp_path / "empty")
    write_model(run, "base")
    result = judge_run(run, load_policy("default"))
    assert result.verdict == "BLOCK" and "no checkpoint evaluations" in result.reasons[0]


def test_unevaluated_tag_blocks(make_run):
    result = judge_run(make_run(), load_policy("default"), tags=["checkpoint-99"])
    assert result.verdict == "BLOCK"
    assert "checkpoint-99: no summary" in result.reasons[0]


def test_latency_missing_on_a_gpu_run_fails(make_run):
    run = make_run(skip=("latency",))

    def no_device(data):
        for entry in data.values():
            entry.get("_info", {}).pop("device", None)
    edit_summary(run, "checkpoint-10", no_device)
    run.manifest.write_text(json.dumps({"environment": {"cuda": True}}))
    verdict, checks = checks_of(run)
    assert checks["latency_p95"].gated is True and checks["latency_p95"].passed is False
    assert verdict.verdict == "BLOCK"
    run.manifest.write_text(json.dumps({"environment": {"cuda": False}}))
    _, checks = checks_of(run)
    assert checks["latency_p95"].passed is None


def test_rate_passing_on_point_says_what_it_cannot_show(make_run):
    _, checks = checks_of(make_run())
    c = checks["harmful_output_rate"]
    assert c.passed is True and c.n_needed == 2995
    assert "point estimate only" in c.reason and "n >= 2995" in c.reason
