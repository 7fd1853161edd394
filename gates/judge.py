"""Judging checkpoints of a run with a policy, and writing gate.json and its reports.

Judging only reads records and summaries (nothing re-runs a model), so any run can be
re-judged with any policy, or against another run's model as the baseline.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gates.checks import evaluate_check
from gates.evidence import EvidenceError, ModelEvidence
from gates.policy import Policy
from gates.select import select_checkpoint
from harness.core.atomic import write_json
from harness.core.errors import BadInputError
from harness.core.rundir import BASE_TAG, RunDir

PROMOTE = "PROMOTE"
BLOCK = "BLOCK"


@dataclass
class CheckpointVerdict:
    tag: str
    verdict: str
    checks: list[dict[str, Any]]
    primary: float | None = None
    demo_suites: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict == PROMOTE

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if c["gated"] and c["passed"] is not True]

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "checks": self.checks,
                "failed": [c["name"] for c in self.failed], "primary": self.primary,
                "demo_suites": self.demo_suites}


@dataclass
class GateResult:
    verdict: str
    selected: str | None
    checkpoints: dict[str, CheckpointVerdict]
    policy: Policy
    selection: dict[str, Any]
    baseline: dict[str, Any]
    run_dir: str
    reasons: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                   time.gmtime()))

    @property
    def failed_checks(self) -> int:
        return sum(len(v.failed) for v in self.checkpoints.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "selected": self.selected,
            "reasons": self.reasons,
            "selection": self.selection,
            "checkpoints": {tag: v.as_dict() for tag, v in self.checkpoints.items()},
            "policy": self.policy.describe(),
            "baseline": self.baseline,
            "run_dir": self.run_dir,
            "created_at": self.created_at,
        }


def resolve_baseline_tag(baseline: RunDir) -> str:
    """The model of a baseline run to compare with: its promoted checkpoint, else base."""
    if baseline.gate.exists():
        try:
            gate = json.loads(baseline.gate.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BadInputError(f"not valid JSON ({exc.msg}, line {exc.lineno})",
                                where=str(baseline.gate)) from exc
        if isinstance(gate, dict) and gate.get("verdict") == PROMOTE and gate.get("selected"):
            return str(gate["selected"])
    return BASE_TAG


def _base_evidence(run: RunDir, baseline: RunDir | None,
                   baseline_tag: str | None) -> tuple[ModelEvidence, dict[str, Any]]:
    if baseline is None:
        tag = baseline_tag or BASE_TAG
        return (ModelEvidence(run.eval_dir(tag), tag),
                {"run_dir": str(run.root), "tag": tag})
    tag = baseline_tag or resolve_baseline_tag(baseline)
    return (ModelEvidence(baseline.eval_dir(tag), f"baseline {baseline.root}/{tag}"),
            {"run_dir": str(baseline.root), "tag": tag})


def run_device(run: RunDir) -> str | None:
    """'cuda' if the run's manifest says a GPU was present, so a GPU run that skipped the
    latency suite cannot escape a cuda-gated check; None when nothing says."""
    try:
        manifest = json.loads(run.manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    env = manifest.get("environment") if isinstance(manifest, dict) else None
    if isinstance(env, dict) and "cuda" in env:
        return "cuda" if env["cuda"] else "cpu"
    return None


def _primary(model: ModelEvidence, policy: Policy) -> float | None:
    try:
        value = model.metric(policy.selection.suite, policy.selection.metric).get("value")
    except EvidenceError:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def judge_checkpoint(run: RunDir, tag: str, policy: Policy, *, baseline: RunDir | None = None,
                     baseline_tag: str | None = None) -> CheckpointVerdict:
    """Every check of `policy` for one evaluated model; PROMOTE only if all gated pass."""
    base, _ = _base_evidence(run, baseline, baseline_tag)
    return _judge(ModelEvidence(run.eval_dir(tag), tag, run_device(run)), tag, policy, base)


def _judge(model: ModelEvidence, tag: str, policy: Policy,
           base: ModelEvidence) -> CheckpointVerdict:
    checks = [evaluate_check(check, policy, model, base) for check in policy.checks]
    gated = [c for c in checks if c["gated"]]
    ok = bool(gated) and all(c["passed"] is True for c in gated)
    return CheckpointVerdict(tag, PROMOTE if ok else BLOCK, checks, _primary(model, policy),
                             model.demo_suites())


def judge_run(run: RunDir, policy: Policy, *, baseline: RunDir | None = None,
              tags: list[str] | None = None, baseline_tag: str | None = None,
              selection: str | None = None) -> GateResult:
    """Judge every evaluated checkpoint (all model tags but base unless `tags` is given)."""
    base, baseline_info = _base_evidence(run, baseline, baseline_tag)
    if tags is None:
        tags = [t for t in run.model_tags() if t != BASE_TAG]
    device = run_device(run)
    verdicts = {tag: _judge(ModelEvidence(run.eval_dir(tag), tag, device), tag, policy, base)
                for tag in tags}
    selected, record = select_checkpoint(verdicts, policy.selection, selection)
    reasons: list[str] = []
    if not verdicts:
        reasons.append(f"no checkpoint evaluations under {run.evals_dir} to judge")
    elif selected is None:
        for tag, v in verdicts.items():
            for c in v.failed:
                reasons.append(f"{tag}: {c['name']}: {c['reason']}")
    else:
        reasons.append(f"{selected} passes every gated check of policy '{policy.name}' "
                       f"({record['description']})")
    return GateResult(PROMOTE if selected else BLOCK, selected, verdicts, policy, record,
                      baseline_info, str(run.root), reasons)


def preflight_block(preflight: Any, policy: Policy, run: RunDir | None = None) -> GateResult:
    """The verdict when the data preflight fails: BLOCK before any model is judged."""
    reasons = [f"data preflight: {r}" for r in (getattr(preflight, "reasons", None) or
                                                ["failed (no reason given)"])]
    return GateResult(BLOCK, None, {}, policy,
                      {"rule": policy.selection.rule, "description": policy.selection.describe(),
                       "passing": []},
                      {"run_dir": str(run.root) if run else None, "tag": None},
                      str(run.root) if run else "", reasons)


def write_gate(run: RunDir, result: GateResult, *, junit_path: str | Path | None = None) -> Path:
    """gate.json, report/junit.xml and report/summary.md; returns gate.json's path."""
    from gates.junit import write_junit
    from gates.summary_md import write_summary_md

    path = write_json(run.gate, result.as_dict())
    write_junit(result, Path(junit_path) if junit_path else run.report_dir / "junit.xml")
    write_summary_md(result, run.report_dir / "summary.md")
    return path


def gate_sha256(run: RunDir) -> str:
    return hashlib.sha256(run.gate.read_bytes()).hexdigest()
