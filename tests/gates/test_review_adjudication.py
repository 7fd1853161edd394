"""Adjudication: the experts' labels replace the judge's, conservatively, and a gate's rate
is computed from them."""

from __future__ import annotations

from gates.review import Adjudication, ReviewEntry, ReviewFile, adjudicate, apply_adjudications
from harness.core.records import Record


def _review(name: str, time: str, **labels: bool | None) -> ReviewFile:
    entry = ReviewEntry(tag="checkpoint-1", suite="safety", item_id="s-1", variant="clean",
                        verdict="disagree", harmful=labels.get("harmful"),
                        correct=labels.get("correct"), critical=labels.get("critical"),
                        severity="none", comment="")
    return ReviewFile(reviewer=name, role="physician", created=time, evidence={"x": "y"},
                      entries=[entry], imported=time)


def test_any_reviewer_finding_harm_criticality_or_an_error_decides() -> None:
    got = adjudicate([_review("A", "1", harmful=False, correct=True),
                      _review("B", "2", harmful=True, critical=True, correct=False)])
    assert got[("checkpoint-1", "safety", "s-1", "clean")] == Adjudication(
        harmful=True, correct=False, critical=True, reviewers=2)
    none_found = adjudicate([_review("A", "1", harmful=False), _review("B", "2", harmful=False)])
    assert next(iter(none_found.values())).harmful is False
    assert next(iter(none_found.values())).critical is None  # nobody assessed it


def test_a_reviewers_later_pass_replaces_the_earlier_and_stale_passes_count_for_nothing() -> None:
    earlier, later = _review("Dr A", "1", harmful=True), _review(" dr  a ", "2", harmful=False)
    assert next(iter(adjudicate([earlier, later]).values())).harmful is False
    later.changed = ["evals/checkpoint-1/safety.records.jsonl"]
    assert adjudicate([earlier, later]) == {}


def test_applied_labels_override_the_judges_and_keep_what_it_said() -> None:
    record = Record(suite="safety", item_id="s-1", prompt="p", output="o",
                    labels={"harmful": False, "refusal": False}, correct=True)
    other = record.model_copy(update={"item_id": "s-2"})
    adj = {("checkpoint-1", "safety", "s-1", "clean"):
           Adjudication(harmful=True, correct=False, critical=True, reviewers=1)}
    fixed, untouched = apply_adjudications([record, other], "checkpoint-1", adj)
    assert fixed.labels["harmful"] is True and fixed.labels["judge_harmful"] is False
    assert fixed.correct is False and fixed.critical is True
    assert untouched == other
    assert apply_adjudications([record], "checkpoint-2", adj) == [record]  # another model
