"""The pre-deployment checklist: the lecture's four items and the GMLP principles.

Each item is pass, fail or pending with a link to its evidence. What a run can show
(test sets, thresholds, independence of data) is decided from the run's files and fails
closed when the evidence is missing. What only a person can confirm stays pending until
the required number of fresh approving sign-offs exists.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

import yaml

from reports.rundata import SAFETY_ROLES, RunData
from reports.signoff import ReviewState

PASS, FAIL, PENDING = "pass", "fail", "pending"
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


def check_suite(check: dict[str, Any]) -> str:
    """A check's suite: its own field, else the prefix of a `suite.metric` name."""
    return str(check.get("suite") or str(check.get("metric", "")).split(".", 1)[0])


def check_failed(check: dict[str, Any]) -> bool:
    """Failed and gated; a check reported but not gated (e.g. GPU latency on CPU) never fails."""
    return check.get("passed") is not True and check.get("gated", True) is not False


def _suite_checks(data: RunData, suites: list[str]) -> list[dict[str, Any]]:
    """The described model's gate checks on any of `suites`."""
    return [c for c in data.checks(data.subject_tag) if check_suite(c) in suites]


def _role_checks(data: RunData, roles: tuple[str, ...]) -> list[dict[str, Any]]:
    """The described model's gate checks on suites with any of `roles`, evaluated or not
    (a check on a suite that never ran is still the role's check, and it failed)."""
    return [c for c in data.checks(data.subject_tag) if data.has_role(check_suite(c), *roles)]


def _performance(data: RunData) -> Item:
    tag = data.subject_tag
    evaluated = [s for s in data.suites_with("performance")
                 if any(e.n for e in data.metrics(tag, s).values())]
    checks = _suite_checks(data, evaluated)
    failed = [c.get("name") for c in checks if check_failed(c)]
    evidence = [("results", "model_card.html#results"), ("evidence explorer", "evidence.html")]
    if data.gate is None:
        return Item("lecture", "performance", "Performance validated on multiple test sets", FAIL,
                    "No gate.json: the results were not judged.", evidence)
    if len(evaluated) < 2:
        return Item("lecture", "performance", "Performance validated on multiple test sets", FAIL,
                    f"Only {len(evaluated)} benchmark suite(s) evaluated for {tag}.", evidence)
    if failed:
        return Item("lecture", "performance", "Performance validated on multiple test sets", FAIL,
                    f"Failed checks: {', '.join(map(str, failed))}.", evidence)
    demo = [s for s in evaluated if data.is_demo(s)]
    note = f" Demo data: {', '.join(demo)}." if demo else ""
    return Item("lecture", "performance", "Performance validated on multiple test sets", PASS,
                f"{len(evaluated)} test sets evaluated for {tag} ({', '.join(evaluated)}); "
                f"{len(checks)} gate checks, none failed.{note}", evidence)


def _safety(data: RunData) -> Item:
    title = "Safety metrics within acceptable thresholds"
    evidence = [("safety", "model_card.html#safety"), ("gate", "model_card.html#gate")]
    checks = _role_checks(data, SAFETY_ROLES)
    if not checks:
        return Item("lecture", "safety", title, FAIL,
                    "No safety or critical-error gate check for the selected model (fails closed).",
                    evidence)
    failed = [c for c in checks if check_failed(c)]
    if failed:
        return Item("lecture", "safety", title, FAIL, "; ".join(
            f"{c.get('name')}: {c.get('reason') or 'failed'}" for c in failed), evidence)
    return Item("lecture", "safety", title, PASS, f"{len(checks)} safety checks, none failed.", evidence)


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
    status = PASS if review.expert_review_passed else PENDING
    return Item("lecture", "expert_review", title, status, detail,
                [("sign-offs", "#signoffs")], by_person=True)


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
        failed = [c.get("name") for c in _suite_checks(data, have) if check_failed(c)]
        if missing or failed:
            why = f"no evaluated suite tagged {', '.join(missing)}" if missing \
                else f"failed checks: {failed}"
            return Item("gmlp", key, title, FAIL, f"Perturbation and safety testing incomplete ({why}).",
                        evidence)
        return Item("gmlp", key, title, PASS, "Perturbed questions, unsafe requests and "
                    "critical-error items were tested and passed their gates.", evidence)
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
    items = [_performance(data), _safety(data), _expert(review), _regulatory(data, review)]
    items += [_gmlp(data, review, p) for p in gmlp_principles()]
    return items
