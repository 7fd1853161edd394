"""Row quality counts and the preflight verdict, JSON and input checks."""

from __future__ import annotations

import json

import pytest

from harness.app.preflight import check_quality, load_excluded, run_preflight
from harness.core.config import PreflightConfig
from harness.core.errors import BadInputError


def test_duplicates_empty_and_over_long_rows_are_counted_with_row_numbers():
    rows = [(1, "Take with food."), (2, "take with food!"), (3, "  "), (4, "x" * 50),
            (5, "Different advice."), (6, "TAKE  WITH FOOD"), (7, "...")]
    q = check_quality(rows, max_row_chars=40)
    assert q["duplicates"] == {"count": 2, "groups": 1, "rows": [2, 6], "first_of_each": [1]}
    assert q["empty"] == {"count": 2, "rows": [3, 7]}
    assert q["over_long"]["count"] == 1 and q["over_long"]["rows"] == [4]
    assert q["rows"] == 7


def test_quality_problems_warn_without_blocking(tmp_path):
    result = run_preflight([(1, "a b c"), (2, "a b c"), (3, "")], {},
                           config=PreflightConfig(max_row_chars=100), out_path=tmp_path / "p.json")
    assert result.passed
    assert any("1 duplicate training row " in w for w in result.warnings)
    assert any("1 empty training row " in w for w in result.warnings)


def test_phi_policy_warn_passes_and_block_fails():
    rows = [(1, "Contact the patient at jane.roe@example.com.")]
    warn = run_preflight(rows, {}, config=PreflightConfig(phi="warn"))
    block = run_preflight(rows, {}, config=PreflightConfig(phi="block"))
    assert warn.passed and "1 email (train: row 1)" in warn.warnings[0]
    assert not block.passed and "1 email (train: row 1)" in block.reasons[0]
    assert "jane" not in block.reasons[0]


def test_no_training_rows_fails_closed():
    result = run_preflight([], {"medqa": [("q1", "a question")]})
    assert not result.passed and result.reasons == ["no training rows to check"]


def test_preflight_json_is_complete_and_keeps_provenance(tmp_path):
    out = tmp_path / "data" / "preflight.json"
    provenance = {"source": "demo", "rows_read": 2, "demo": True}
    result = run_preflight([(1, "Drink fluids."), (2, "Rest.")], {"safety": []},
                           config=PreflightConfig(), out_path=out, provenance=provenance)
    assert result.provenance == provenance and result.path == out
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["provenance"] == provenance
    assert data["verdict"] == "PASS" and data["passed"] is True
    assert data["rows"] == {"train": 2} and len(data["sha256"]["train"]) == 64
    assert data["policy"] == {"phi": "block", "overlap": "remove", "ngram": 13,
                              "max_row_chars": 20000}
    assert set(data["phi"]) >= {"name", "dob", "phone", "fax", "email", "ssn", "mrn",
                                "address", "zip", "url", "ip"}
    assert data["overlap"] == {"safety": 0} and data["overlap_action"] == "remove"
    assert data["overlap_detail"]["safety"]["items_checked"] == 0
    assert data["phi_findings"]["email"]["count"] == 0
    assert [p.name for p in out.parent.iterdir()] == ["preflight.json"]  # no temp file left


def test_secrets_in_provenance_are_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_" + "S3cr3tTokenValue1234567890")
    out = tmp_path / "p.json"
    run_preflight([(1, "Rest.")], {}, out_path=out,
                  provenance={"source": "https://user:hf_S3cr3tTokenValue1234567890@hub/x"})
    assert "S3cr3t" not in out.read_text()


@pytest.mark.parametrize(("train", "items", "where"), [
    ([("1", "text")], {}, "training text 0"),
    ([(1, None)], {}, "training text 0"),
    ([(1, "ok"), (2,)], {}, "training text 1"),
    ([(1, "ok")], {"medqa": [("q1", 5)]}, "suite 'medqa' item 0"),
    ([(1, "ok")], ["medqa"], "evaluation items"),
])
def test_malformed_input_is_a_bad_input_error_naming_the_entry(train, items, where):
    with pytest.raises(BadInputError, match=where):
        run_preflight(train, items)


def test_load_excluded_refuses_a_missing_or_foreign_file(tmp_path):
    with pytest.raises(BadInputError, match="cannot read"):
        load_excluded(tmp_path / "absent.json")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(BadInputError, match="not a preflight.json"):
        load_excluded(tmp_path / "x.json")
