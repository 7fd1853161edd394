"""Sign-offs: bound to the evidence, stale after a re-gate, counted by the checklist."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from report_run_builder import build_run, write_gate

from harness.app.cli import main
from harness.core.config import MedgateConfig, load_config, write_resolved
from harness.core.errors import BadInputError
from harness.core.rundir import RunDir
from reports.render import assess, render_all
from reports.signoff import read_signoffs, record_signoff

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    return build_run(tmp_path / "run")


def _sign(root: Path, who: str, decision: str = "approve", role: str = "physician", k: int = 0) -> Path:
    return record_signoff(root, reviewer=who, role=role, decision=decision, note=f"note by {who}",
                          now=T0 + timedelta(seconds=k))


def _status(root: Path) -> dict[str, str]:
    return {i.key: i.status for i in assess(root)[0]}


def test_signoff_file_binds_gate_and_every_records_file(run_dir: Path) -> None:
    path = _sign(run_dir, "Dr Ada Lovelace")
    entry = json.loads(path.read_text())
    assert path.parent.name == "signoffs" and path.name.endswith("-Dr-Ada-Lovelace.json")
    assert entry["reviewer"] == "Dr Ada Lovelace" and entry["role"] == "physician"
    assert entry["decision"] == "approve" and entry["time"] == "2026-01-02T03:04:05Z"
    records = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.glob("evals/*/*.records.jsonl"))
    assert sorted(entry["evidence"]) == sorted(["gate.json", *records])
    assert all(len(h) == 64 for h in entry["evidence"].values())


def test_expert_review_needs_required_fresh_approvals(run_dir: Path) -> None:
    _sign(run_dir, "A", k=1)
    _sign(run_dir, "B", k=2)
    assert _status(run_dir)["expert_review"] == "pending"
    _sign(run_dir, "C", k=3)
    status = _status(run_dir)
    assert status["expert_review"] == "pass"
    assert status["gmlp6_design_fits_use"] == "pass"  # person-confirmed items follow the review
    assert status["gmlp3_representative_data"] == "fail"  # demo data can never represent patients


def test_a_fresh_rejection_keeps_expert_review_pending(run_dir: Path) -> None:
    for k, who in enumerate("ABC"):
        _sign(run_dir, who, k=k)
    _sign(run_dir, "D", decision="reject", k=9)
    assert _status(run_dir)["expert_review"] == "pending"
    render_all(run_dir)
    html = (run_dir / "report" / "checklist.html").read_text()
    assert "Rejected by: D (physician)" in html


def test_signoff_then_regate_with_different_results_is_stale(run_dir: Path) -> None:
    for k, who in enumerate("ABC"):
        _sign(run_dir, who, k=k)
    assert _status(run_dir)["expert_review"] == "pass"
    write_gate(RunDir(run_dir), verdict="BLOCK", harmful_value=0.2)  # re-gate, new results
    signoffs = read_signoffs(run_dir)
    assert all(s.stale and s.changed == ["gate.json"] for s in signoffs)
    assert _status(run_dir)["expert_review"] == "pending"
    render_all(run_dir)
    for page in ("checklist.html", "model_card.html"):
        html = (run_dir / "report" / page).read_text()
        assert "stale" in html and "evidence changed since: gate.json" in html


def test_changed_records_make_a_signoff_stale(run_dir: Path) -> None:
    _sign(run_dir, "A")
    path = run_dir / "evals" / "checkpoint-20" / "medqa.records.jsonl"
    path.write_text(path.read_text().replace('"pred": "A"', '"pred": "B"', 1))
    [status] = read_signoffs(run_dir)
    assert status.stale and status.changed == ["evals/checkpoint-20/medqa.records.jsonl"]


def test_regulatory_item_needs_a_regulatory_approval(run_dir: Path) -> None:
    assert _status(run_dir)["regulatory"] == "pending"
    _sign(run_dir, "R", role="Regulatory affairs lead")
    status = _status(run_dir)
    assert status["regulatory"] == "pass"
    assert status["expert_review"] == "pending"  # a regulatory approval is not a clinical one


def test_cli_signoff_rerenders_checklist_and_escapes_note(run_dir: Path) -> None:
    code = main(["signoff", "--run-dir", str(run_dir), "--reviewer", "Dr B", "--role", "pharmacist",
                 "--decision", "approve", "--note", "<script>alert(1)</script>"])
    assert code == 0
    html = (run_dir / "report" / "checklist.html").read_text()
    assert "Dr B" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_cli_signoff_bad_input(run_dir: Path, tmp_path: Path) -> None:
    base = ["signoff", "--run-dir", str(run_dir), "--reviewer", "X", "--role", "physician"]
    assert main([*base, "--decision", "maybe"]) == 2
    (run_dir / "gate.json").unlink()
    assert main([*base, "--decision", "approve"]) == 2  # nothing to sign
    assert main(["signoff", "--run-dir", str(tmp_path / "nope"), "--reviewer", "X", "--role", "p",
                 "--decision", "approve"]) == 2


def test_secret_in_note_never_reaches_disk(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_SECRETSECRETSECRETSECRET1234")
    path = record_signoff(run_dir, reviewer="A", role="physician", decision="approve",
                          note="token hf_SECRETSECRETSECRETSECRET1234 leaked")
    assert "hf_SECRET" not in path.read_text()


def test_one_reviewer_signing_three_times_counts_once(run_dir: Path) -> None:
    for k, spelling in enumerate(["Dr Ada Lovelace", "dr  ada lovelace", " DR ADA LOVELACE "]):
        _sign(run_dir, spelling, k=k)
    state = assess(run_dir)[1]
    assert len(state.approvals) == 1 and len(state.superseded) == 2
    assert _status(run_dir)["expert_review"] == "pending"


def test_three_distinct_medical_reviewers_complete_the_review(run_dir: Path) -> None:
    _sign(run_dir, "A", role="Physician", k=1)
    _sign(run_dir, "B", role="nurse", k=2)
    _sign(run_dir, "C", role="  Clinical   Pharmacologist ", k=3)
    assert _status(run_dir)["expert_review"] == "pass"


def test_a_role_outside_the_medical_list_does_not_count(run_dir: Path) -> None:
    _sign(run_dir, "A", k=1)
    _sign(run_dir, "B", k=2)
    _sign(run_dir, "C", role="data scientist", k=3)
    items, state = assess(run_dir)
    assert [s.reviewer for s in state.not_counted] == ["C"]
    expert = next(i for i in items if i.key == "expert_review")
    assert expert.status == "pending"
    assert "Not counted" in expert.detail and "C (data scientist)" in expert.detail
    assert "clinical pharmacologist" in expert.detail  # the roles that do count are shown


def test_the_latest_decision_of_a_reviewer_counts(run_dir: Path) -> None:
    for k, who in enumerate("ABC"):
        _sign(run_dir, who, k=k)
    assert _status(run_dir)["expert_review"] == "pass"
    _sign(run_dir, "a", decision="reject", k=10)  # A withdraws the approval
    state = assess(run_dir)[1]
    assert [s.reviewer for s in state.approvals] == ["B", "C"]
    assert [s.reviewer for s in state.rejections] == ["a"]
    assert _status(run_dir)["expert_review"] == "pending"
    _sign(run_dir, "A", k=20)  # and approves again: the rejection is withdrawn
    assert _status(run_dir)["expert_review"] == "pass"


def test_medical_roles_come_from_the_run_config(run_dir: Path) -> None:
    for k, who in enumerate("ABC"):
        _sign(run_dir, who, role="oncologist", k=k)
    assert _status(run_dir)["expert_review"] == "pending"  # not a default medical role
    config = MedgateConfig.model_validate({"report": {"medical_roles": ["Oncologist"]}})
    write_resolved(config, RunDir(run_dir).config)
    assert _status(run_dir)["expert_review"] == "pass"


def test_medical_roles_must_name_roles() -> None:
    config = load_config(overrides=["report.medical_roles=['Clinical  oncologist ']"])
    assert config.report.medical_roles == ["Clinical oncologist"]
    with pytest.raises(BadInputError, match="report.medical_roles"):
        load_config(overrides=["report.medical_roles=[]"])
    with pytest.raises(BadInputError, match="report.medical_roles"):
        load_config(overrides=["report.medical_roles=['  ']"])


def test_cli_says_at_sign_time_that_a_role_does_not_count(run_dir: Path, capsys) -> None:
    base = ["signoff", "--run-dir", str(run_dir), "--decision", "approve"]
    assert main([*base, "--reviewer", "E", "--role", "data scientist"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "'data scientist' does not count as medical" in err
    assert "physician" in err and "pharmacist" in err and "report.medical_roles" in err
    assert "distinct medical reviewers 0/3" in err
    assert main([*base, "--reviewer", "R", "--role", "Regulatory affairs"]) == 0
    assert "regulatory item" in " ".join(capsys.readouterr().err.split())
    assert main([*base, "--reviewer", "P", "--role", "Pharmacist"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "does not count" not in err and "distinct medical reviewers 1/3" in err
