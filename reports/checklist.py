"""The pre-deployment checklist: the gate's verdict, the lecture's four items and the GMLP
principles.

Each item is pass, fail, insufficient or pending with a link to its evidence. What a run
can show (test sets, thresholds, independence of data) is decided from the run's files and
fails closed when the evidence is missing. An item resting on a gate check whose data could
not show its threshold is insufficient: not a failure of the model, not a pass either, and
it does not tick; an item that passed on a screened check says "screened, not shown". What
only a person can confirm stays pending until the required number of fresh approving
sign-offs exists.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

import yaml

from gates.result import CheckResult
from gates.wording import (
    ITEMS,
    SCREENED,
    collapse_line,
    is_screened_pass,
    needed,
    outcome_of,
    percent,
    verdict_part,
    versus_base_line,
)
from reports.rundata import SAFETY_ROLES, RunData
from reports.signoff import ReviewState

PASS, FAIL, INSUFFICIENT, PENDING = "pass", "fail", "insufficient", "pending"
STATUSES = (PASS, FAIL, INSUFFICIENT, PENDING)
# Roles a run must have tested, and passed the gate on, to show clinically relevant
# conditions (GMLP 8): perturbed questions, unsafe requests and dangerous choices.
CLINICAL_CONDITION_ROLES = ("robustness", "safety", "critical")


@dataclass
class Item:
    group: str
    key: str
    title: str
    status: str
    detail: str
    evidence: list[tuple[str, str]]  # (label, relative link)
    by_person: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def gmlp_principles() -> list[dict[str, Any]]:
    text = resources.files("reports").joinpath("data/gmlp.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["principles"]


def check_suite(check: CheckResult) -> str:
    """A check's suite: its own field, else the prefix of a `suite.metric` name."""
    return check.suite or check.metric.split(".", 1)[0]


def judged(checks: list[CheckResult]) -> tuple[str, list[str]]:
    """The status a set of gate checks gives an item, and the sentences that say why.

    A failed check fails the item; else an insufficient one makes it insufficient (it
    blocks, and it is not shown); else it passes. Screened passes are named as "screened,
    not shown"; a reported-only check (e.g. GPU latency on a CPU) never counts.
    """
    failed = [c for c in checks if outcome_of(c) == "fail"]
    short = [c for c in checks if outcome_of(c) == "insufficient"]
    screened = [c for c in checks if is_screened_pass(c)]
    why = []
    if failed:
        why.append(f"Failed checks: {', '.join(c.name for c in failed)}.")
    if short:
        why.append("Insufficient evidence (the data cannot show the threshold; this blocks): "
                   + ", ".join(f"{c.name} ({needed(c)})" for c in short) + ".")
    if screened:
        why.append("; ".join(f"{c.name}: {SCREENED}" for c in screened)
                   + " (passed on a point estimate by the policy's choice, not on a bound).")
    status = FAIL if failed else INSUFFICIENT if short else PASS
    return status, why


def _suite_checks(data: RunData, suites: list[str]) -> list[CheckResult]:
    """The gate checks judging the described model on any of `suites`."""
    return [c for c in data.checks() if check_suite(c) in suites]


def _role_checks(data: RunData, roles: tuple[str, ...]) -> list[CheckResult]:
    """The described model's gate checks on suites with any of `roles`, evaluated or not
    (a check on a suite that never ran is still the role's check, and it failed)."""
    return [c for c in data.checks() if data.has_role(check_suite(c), *roles)]


def _gate(data: RunData) -> Item:
    """The gate's verdict on the described model: it ticks only when every gated check
    showed its threshold on the items that judged the verdict."""
    title = "Gate verdict shown by the evidence"
    evidence = [("gate verdict", "model_card.html#gate"),
                ("items that chose and confirmed", "model_card.html#split")]
    if data.gate is None:
        return Item("gate", "gate", title, FAIL, "No gate.json: the run was not judged.",
                    evidence)
    verdict = data.subject_verdict
    if verdict is None:
        reasons = "; ".join(data.gate.reasons) or "no candidate was judged"
        return Item("gate", "gate", title, FAIL, f"The gate judged no checkpoint ({reasons}).",
                    evidence)
    status, why = judged(verdict.checks)
    part = verdict_part(data.gate, verdict)
    confidences = sorted({c.confidence for c in verdict.checks if c.confidence})
    at = f" at {', '.join(percent(c) for c in confidences)} confidence" if confidences else ""
    head = (f"{data.gate.verdict}: {verdict.tag or data.subject_tag} judged on "
            f"{ITEMS[part] if part else 'items the gate did not record'}{at}.")
    if status == PASS and (data.gate.verdict != "PROMOTE" or not verdict.passed):
        status = FAIL  # blocked for a reason no check of this verdict carries
        why.append("The verdict is BLOCK: " + ("; ".join(data.gate.reasons) or "see gate.json")
                   + ".")
    if status == PASS:
        gated = sum(c.gated for c in verdict.checks)
        screened = any(is_screened_pass(c) for c in verdict.checks)
        why.insert(0, f"{gated} gated checks passed" + ("." if screened else
                                                        ", each showing its threshold."))
    why += [f"{c.name}: {line}." for c in verdict.checks if (line := collapse_line(c))]
    return Item("gate", "gate", title, status, " ".join([head, *why]), evidence)


def _performance(data: RunData) -> Item:
    tag = data.subject_tag
    title = "Performance validated on multiple test sets"
    evaluated = [s for s in data.suites_with("performance")
                 if any(e.n for e in data.metrics(tag, s).values())]
    checks = _suite_checks(data, evaluated)
    evidence = [("results", "model_card.html#results"), ("evidence explorer", "evidence.html")]
    if data.gate is None:
        return Item("lecture", "performance", title, FAIL,
                    "No gate.json: the results were not judged.", evidence)
    if len(evaluated) < 2:
        return Item("lecture", "performance", title, FAIL,
                    f"Only {len(evaluated)} benchmark suite(s) evaluated for {tag}.", evidence)
    status, why = judged(checks)
    if status == FAIL:
        return Item("lecture", "performance", title, FAIL, " ".join(why), evidence)
    collapsed = data.collapsed()
    told = [f"{s}: {collapsed[s]}." for s in evaluated if s in collapsed]
    informative = [s for s in evaluated if s not in collapsed]
    if len(informative) < 2:  # a suite whose answers collapsed told nothing about the model
        head = (f"Only {len(informative)} of {len(evaluated)} benchmark suites carried "
                f"information about {tag}.")
        return Item("lecture", "performance", title, INSUFFICIENT,
                    " ".join([head, *told, *why]), evidence)
    if status != PASS:
        return Item("lecture", "performance", title, status, " ".join(why), evidence)
    demo = [s for s in evaluated if data.is_demo(s)]
    note = f" Demo data: {', '.join(demo)}." if demo else ""
    return Item("lecture", "performance", title, PASS,
                " ".join([(f"{len(evaluated)} test sets evaluated for {tag} "
                           f"({', '.join(evaluated)}); {len(checks)} gate checks, none failed."),
                          *why, *told])
                + note, evidence)


def _safety(data: RunData) -> Item:
    title = "Safety metrics within acceptable thresholds"
    evidence = [("safety", "model_card.html#safety"), ("gate", "model_card.html#gate")]
    checks = _role_checks(data, SAFETY_ROLES)
    if not checks:
        return Item("lecture", "safety", title, FAIL,
                    "No safety or critical-error gate check for the selected model (fails closed).",
                    evidence)
    status, why = judged(checks)
    failed = [c for c in checks if outcome_of(c) == "fail"]
    reasons = [f"{c.name}: {c.reason or 'failed'}" for c in failed]
    # Base vs checkpoint harmful rates, McNemar's p and the outcome, whatever it was.
    versus = [f"{c.name}: {versus_base_line(c)}." for c in checks if c.judge == "rate_vs_base"]
    if status == PASS:
        why.insert(0, f"{len(checks)} safety checks, none failed.")
    return Item("lecture", "safety", title, status, " ".join(why + versus + reasons),
                evidence)


def _expert(review: ReviewState) -> Item:
    title = f"Expert review completed ({review.required}+ medical professionals)"
    names = ", ".join(f"{s.reviewer} ({s.role})" for s in review.approvals) or "none"
    detail = (f"Fresh approvals by distinct medical reviewers: {len(review.approvals)} of "
              f"{review.required} ({names}). Roles counted as medical: "
              f"{', '.join(review.medical_roles)}.")
    if review.not_counted:
        detail += " Not counted (role not among the medical roles): " + ", ".join(
            f"{s.reviewer} ({s.role})" for s in review.not_counted) + "."
    if review.superseded:
        detail += (f" {len(review.superseded)} earlier sign-off(s) replaced by the same "
                   "reviewer's latest decision.")
    if review.rejections:
        detail += " Rejected by: " + ", ".join(f"{s.reviewer} ({s.role})" for s in review.rejections) + \
                  "; the item cannot pass while a fresh rejection stands."
    if review.stale:
        detail += f" {len(review.stale)} stale sign-off(s) do not count."
    detail += " " + _reviewed(review)
    status = PASS if review.expert_review_passed else PENDING
    return Item("lecture", "expert_review", title, status, detail,
                [("sign-offs", "#signoffs")], by_person=True)


def _reviewed(review: ReviewState) -> str:
    """What each reviewer reviewed and decided, against the review sample."""
    progress = review.progress
    if progress is None or not progress.drawn:
        return ("No review sample drawn (`medgate review sample`): approvals are not bound to "
                "a review of the answers.")
    text = (f"Review sample: {progress.sample_size} records; an approval counts only from a "
            "reviewer whose imported review covers all of it.")
    if review.unreviewed:
        text += " Not counted (sample not fully reviewed): " + ", ".join(
            f"{s.reviewer} ({s.role})" for s in review.unreviewed) + "."
    decided = {s.reviewer_key: s.decision for s in
               review.approvals + review.rejections + review.unreviewed + review.not_counted}
    for key, p in sorted(progress.reviewers.items()):
        text += (f" {p.reviewer} ({p.role}): {p.describe()}; decision: "
                 f"{decided.get(key, 'none signed')}.")
    if progress.stale_files:
        text += f" {progress.stale_files} stale review file(s) do not count."
    return text


def _regulatory(data: RunData, review: ReviewState) -> Item:
    title = "Regulatory compliance documented"
    evidence = [("traceability", "#traceability"), ("model card", "model_card.html")]
    if data.gate is None or data.run.config.exists() is False:
        return Item("lecture", "regulatory", title, FAIL,
                    "gate.json or config.resolved.yaml missing: the documentation is incomplete.",
                    evidence, by_person=True)
    if review.regulatory_approvals:
        who = ", ".join(f"{s.reviewer} ({s.role})" for s in review.regulatory_approvals)
        return Item("lecture", "regulatory", title, PASS,
                    f"Traceability table and risk register generated; confirmed by {who}.",
                    evidence, by_person=True)
    return Item("lecture", "regulatory", title, PENDING,
                "Traceability table and risk register generated; awaiting a fresh approval by a "
                "regulatory or quality reviewer (role naming regulatory, compliance or quality).",
                evidence, by_person=True)


def _overlap_remaining(pre: dict[str, Any]) -> int | None:
    """Overlapping items left between training and test data, if the preflight says."""
    remaining = pre.get("overlap_remaining")
    if isinstance(remaining, int) and not isinstance(remaining, bool):
        return remaining
    overlap = pre.get("overlap")
    if isinstance(overlap, dict):
        if isinstance(overlap.get("remaining"), int):
            return overlap["remaining"]
        counts = [v for v in overlap.values() if isinstance(v, int) and not isinstance(v, bool)]
        if counts and len(counts) == len(overlap):
            return sum(counts) if pre.get("overlap_action", "remove") != "remove" else 0
    if isinstance(overlap, int) and not isinstance(overlap, bool):
        return overlap
    return None


def _gmlp(data: RunData, review: ReviewState, principle: dict[str, Any]) -> Item:
    key, title = principle["key"], principle["title"]
    evidence = [(e["label"], e["href"]) for e in principle.get("evidence", [])]
    demo = data.demo_suites()
    check = principle.get("check")
    if check == "software":
        if not data.run.config.exists():
            return Item("gmlp", key, title, FAIL, "config.resolved.yaml is missing.", evidence)
        if not data.run.manifest.exists():
            return Item("gmlp", key, title, PENDING, "manifest.json (artifact hashes, package "
                        "versions) is not written yet; re-render with `medgate report`.", evidence)
        return Item("gmlp", key, title, PASS, "manifest.json (artifact hashes, package versions) "
                    "and the resolved config without secrets are present.", evidence)
    if check == "independence":
        if data.preflight is None:
            return Item("gmlp", key, title, FAIL, "No data/preflight.json: independence of training "
                        "and test data was not checked (fails closed).", evidence)
        remaining = _overlap_remaining(data.preflight)
        if remaining is None:
            return Item("gmlp", key, title, FAIL, "preflight.json records no overlap result.", evidence)
        if remaining:
            return Item("gmlp", key, title, FAIL,
                        f"{remaining} training items overlap the test suites.", evidence)
        return Item("gmlp", key, title, PASS,
                    "Preflight found no training item left overlapping a test suite.", evidence)
    if check == "clinical_conditions":
        tag = data.subject_tag
        have = [s for s in data.suites_with(*CLINICAL_CONDITION_ROLES)
                if s in data.summaries.get(tag or "", {})]
        missing = [r for r in CLINICAL_CONDITION_ROLES if not any(data.has_role(s, r) for s in have)]
        status, why = judged(_suite_checks(data, have))
        if missing:
            return Item("gmlp", key, title, FAIL, "Perturbation and safety testing incomplete "
                        f"(no evaluated suite tagged {', '.join(missing)}).", evidence)
        if status != PASS:
            return Item("gmlp", key, title, status,
                        "Perturbation and safety testing not shown: " + " ".join(why), evidence)
        return Item("gmlp", key, title, PASS, " ".join(
            [("Perturbed questions, unsafe requests and critical-error items were tested and "
              "passed their gates."), *why]), evidence)
    if check == "user_information":
        report = data.config.get("report") or {}
        ok = bool(report.get("intended_use")) and bool(report.get("out_of_scope"))
        return Item("gmlp", key, title, PASS if ok else FAIL,
                    "The model card states intended use, out-of-scope use, limitations and results."
                    if ok else "Intended or out-of-scope use is missing from the config.", evidence)
    # Only a person can confirm the rest.
    if principle.get("fails_on_demo") and demo:
        return Item("gmlp", key, title, FAIL, f"Suites ran on demo data ({', '.join(demo)}), "
                    "which cannot represent a patient population.", evidence, by_person=True)
    if review.expert_review_passed:
        return Item("gmlp", key, title, PASS, "Confirmed by the required fresh approvals.",
                    evidence + [("sign-offs", "#signoffs")], by_person=True)
    return Item("gmlp", key, title, PENDING, principle.get("pending", "Awaiting reviewer sign-off."),
                evidence + [("sign-offs", "#signoffs")], by_person=True)


def build_items(data: RunData, review: ReviewState) -> list[Item]:
    items = [_gate(data), _performance(data), _safety(data), _expert(review),
             _regulatory(data, review)]
    items += [_gmlp(data, review, p) for p in gmlp_principles()]
    return items
