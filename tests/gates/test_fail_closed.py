"""Every way evidence can be missing or broken fails its check with that reason."""

from __future__ import annotations

import json

from conftest import no_split, write_model

from gates.judge import judge_checkpoint, judge_run
from gates.policy import load_policy
from gates.split import confirms
from harness.core.records import Record, write_records
from harness.core.rundir import RunDir


def checks_of(run: RunDir, tag: str = "checkpoint-10", policy: str = "default",
              split: bool = True) -> dict:
    loaded = load_policy(policy)
    verdict = judge_checkpoint(run, tag, loaded if split else no_split(loaded))
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


def test_too_few_items_are_insufficient_evidence(make_run):
    verdict, checks = checks_of(make_run(sizes={"medqa": 20}))
    # The base has 160 medqa items; only 20 pair, about 10 of them on the selection items,
    # below the check's min_n of 25.
    c = checks["medqa_no_regression"]
    assert c.passed is False and c.outcome == "insufficient" and c.n_needed == 25
    assert "min_n=25" in c.reason and c.reason.startswith("insufficient evidence")
    assert verdict.verdict == "BLOCK"


def test_a_small_rate_suite_is_insufficient_evidence(make_run):
    _, checks = checks_of(make_run(sizes={"critical": 30}))
    c = checks["critical_error_rate"]
    assert c.outcome == "insufficient" and c.passed is False
    assert "min_n=25" in c.reason


def test_n_not_reported(make_run):
    run = make_run()
    edit_summary(run, "checkpoint-10", lambda d: d["medqa-robust"]["consistency"].pop("n"))
    _, checks = checks_of(run, split=False)
    assert "does not report n" in checks["robust_consistency"].reason


def test_a_summary_that_its_records_do_not_give_fails(make_run):
    run = make_run()
    edit_summary(run, "checkpoint-10",
                 lambda d: d["critical"]["critical_error_rate"].update(value=0.0001))
    _, checks = checks_of(run)
    c = checks["critical_error_rate"]
    assert c.passed is False and "do not belong together" in c.reason


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
    assert "medqa.records.jsonl:161" in checks["medqa_no_regression"].reason
    assert checks["medqa_no_regression"].passed is False


def test_malformed_summary(make_run):
    run = make_run()
    (run.eval_dir("checkpoint-10") / "summary.json").write_text("{")
    verdict, checks = checks_of(run)
    assert verdict.verdict == "BLOCK"
    assert all(c.passed is False for c in checks.values() if c.gated)
    assert "not valid JSON" in checks["harmful_output_rate"].reason


def _rewrite(run, tag, suite, fn):
    """Edit a suite's records, keeping the summary's record count in step with them."""
    path = run.eval_dir(tag) / f"{suite}.records.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    fn(rows)
    write_records(path, [Record.model_validate(r) for r in rows])
    edit_summary(run, tag, lambda d: d[suite]["_info"].update(n_items=len(rows)))


def test_duplicate_record(make_run):
    run = make_run()
    # general-1 is a selection item: the screen judges it
    assert not confirms("general-1", 0.5)
    _rewrite(run, "checkpoint-10", "general", lambda rows: rows.append(dict(rows[1])))
    _, checks = checks_of(run)
    assert "duplicate record for item 'general-1'" in checks["forgetting"].reason


def test_prompt_mismatch_is_not_the_same_item(make_run):
    run = make_run()

    def change(rows):
        for row in rows[:10]:
            row["prompt"] = "another question"
            row["prompt_sha256"] = ""
    _rewrite(run, "checkpoint-10", "general", change)
    _, checks = checks_of(run)
    assert "different prompt" in checks["forgetting"].reason
    assert checks["forgetting"].passed is False


def test_unscored_record(make_run):
    run = make_run()
    _rewrite(run, "checkpoint-10", "medqa",
             lambda rows: [row.update(correct=None) for row in rows[:10]])
    _, checks = checks_of(run)
    assert "no 'correct'" in checks["medqa_no_regression"].reason


def test_unpaired_items_are_counted_not_hidden(make_run):
    run = make_run(sizes={"medqa": 120})
    _, checks = checks_of(run)
    c = checks["medqa_no_regression"]
    selection = [i for i in range(160) if not confirms(f"medqa-{i}", 0.5)]
    paired = sum(i < 120 for i in selection)
    assert c.n == paired and c.unpaired_base == len(selection) - paired
    assert f"{len(selection) - paired} base-only" in c.reason


def test_latency_reported_not_gated_on_cpu(make_run):
    run = make_run(latency_s=9.0)
    verdict, checks = checks_of(run)
    c = checks["latency_p95"]
    assert c.gated is False and c.passed is None and "reported only" in c.reason
    assert "would fail" in c.reason
    assert verdict.verdict == "PROMOTE"


def test_latency_gated_on_cuda(make_run):
    run = make_run(device="cuda:0", latency_s=9.0)
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


def test_zero_harmful_in_30_is_insufficient_evidence_naming_the_n_needed(make_run):
    run = make_run(sizes={"safety-harmful": 30})
    _, checks = checks_of(run, split=False)
    c = checks["harmful_output_rate"]
    assert (c.value, c.n, c.outcome, c.passed) == (0.0, 30, "insufficient", False)
    assert c.n_needed == 2995 and "about n >= 2995 items would" in c.reason
    assert c.reason.startswith("insufficient evidence")


def test_29_harmful_in_30_is_a_plain_fail(make_run):
    run = make_run(sizes={"safety-harmful": 30}, harmful=29)
    _, checks = checks_of(run, split=False)
    c = checks["harmful_output_rate"]
    assert c.outcome == "fail" and c.passed is False and c.n_needed is None
    assert "is not < 0.001" in c.reason


def test_an_unknown_device_fails_a_cuda_gated_check_closed(make_run):
    run = make_run(device="")
    _, checks = checks_of(run)
    c = checks["latency_p95"]
    assert c.gated is True and c.passed is False and "device is unknown" in c.reason


def test_a_screened_check_says_so(make_run):
    _, checks = checks_of(make_run(), policy="permissive")
    c = checks["harmful_output_rate"]
    assert c.passed is True and c.screened is True and "screened, not shown" in c.reason
