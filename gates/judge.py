"""Judging checkpoints of a run with a policy, and writing gate.json and its reports.

Judging only reads records and summaries (nothing re-runs a model), so any run can be
re-judged with any policy, or against another run's model as the baseline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gates.checks import evaluate_check
from gates.evidence import EvidenceError, ModelEvidence
from gates.junit import write_junit
from gates.policy import Policy
from gates.result import (
    BLOCK,
    PROMOTE,
    BaselineRef,
    CheckpointVerdict,
    GateResult,
    PolicyRef,
    SelectionRecord,
    SelectionRule,
    SelectionSource,
    read_gate,
    write_gate_json,
)
from gates.select import select_checkpoint
from gates.summary_md import write_summary_md
from harness.core.rundir import BASE_TAG, RunDir
from harness.core.summaries import finite


def resolve_baseline_tag(baseline: RunDir) -> str:
    """The model of a baseline run to compare with: its promoted checkpoint, else base."""
    if baseline.gate.exists():
        gate = read_gate(baseline.gate)
        if gate.verdict == PROMOTE and gate.selected:
            return gate.selected
    return BASE_TAG


def _base_evidence(run: RunDir, baseline: RunDir | None,
                   baseline_tag: str | None) -> tuple[ModelEvidence, BaselineRef]:
    if baseline is None:
        tag = baseline_tag or BASE_TAG
        return ModelEvidence(run.eval_dir(tag), tag), BaselineRef(run_dir=str(run.root), tag=tag)
    tag = baseline_tag or resolve_baseline_tag(baseline)
    return (ModelEvidence(baseline.eval_dir(tag), f"baseline {baseline.root}/{tag}"),
            BaselineRef(run_dir=str(baseline.root), tag=tag))


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
        value = model.metric(policy.selection.suite, policy.selection.metric).value
    except EvidenceError:
        return None
    return finite(value)


def judge_checkpoint(run: RunDir, tag: str, policy: Policy, *, baseline: RunDir | None = None,
                     baseline_tag: str | None = None) -> CheckpointVerdict:
    """Every check of `policy` for one evaluated model; PROMOTE only if all gated pass."""
    base, _ = _base_evidence(run, baseline, baseline_tag)
    return _judge(ModelEvidence(run.eval_dir(tag), tag, run_device(run)), tag, policy, base)


def _judge(model: ModelEvidence, tag: str, policy: Policy,
           base: ModelEvidence) -> CheckpointVerdict:
    checks = [evaluate_check(check, policy, model, base) for check in policy.checks]
    gated = [c for c in checks if c.gated]
    ok = bool(gated) and all(c.passed is True for c in gated)
    return CheckpointVerdict(tag=tag, verdict=PROMOTE if ok else BLOCK, checks=checks,
                             primary=_primary(model, policy), demo_suites=model.demo_suites())


def judge_run(run: RunDir, policy: Policy, *, baseline: RunDir | None = None,
              tags: list[str] | None = None, baseline_tag: str | None = None,
              selection: SelectionRule | None = None,
              selection_source: SelectionSource = "config") -> GateResult:
    """Judge every evaluated checkpoint (all model tags but base unless `tags` is given).

    `selection` overrides the policy's selection rule (None keeps the policy's);
    `selection_source` names who overrode it, for gate.json.
    """
    base, baseline_ref = _base_evidence(run, baseline, baseline_tag)
    if tags is None:
        tags = [t for t in run.model_tags() if t != BASE_TAG]
    device = run_device(run)
    verdicts = {tag: _judge(ModelEvidence(run.eval_dir(tag), tag, device), tag, policy, base)
                for tag in tags}
    selected, record = select_checkpoint(verdicts, policy.selection, selection,
                                         selection_source)
    reasons: list[str] = []
    if not verdicts:
        reasons.append(f"no checkpoint evaluations under {run.evals_dir} to judge")
    elif selected is None:
        for tag, v in verdicts.items():
            for c in v.failed:
                reasons.append(f"{tag}: {c.name}: {c.reason}")
    else:
        reasons.append(f"{selected} passes every gated check of policy '{policy.name}' "
                       f"({record.description})")
    return GateResult(verdict=PROMOTE if selected else BLOCK, selected=selected,
                      reasons=reasons, selection=record, checkpoints=verdicts,
                      policy=PolicyRef(**policy.describe()), baseline=baseline_ref,
                      run_dir=str(run.root))


def preflight_block(preflight: Any, policy: Policy, run: RunDir | None = None, *,
                    selection: SelectionRule | None = None,
                    selection_source: SelectionSource = "config") -> GateResult:
    """The verdict when the data preflight fails: BLOCK before any model is judged."""
    reasons = [f"data preflight: {r}" for r in (getattr(preflight, "reasons", None) or
                                                ["failed (no reason given)"])]
    _, rule = select_checkpoint({}, policy.selection, selection, selection_source)
    return GateResult(verdict=BLOCK, selected=None, reasons=reasons,
                      selection=SelectionRecord(rule=rule.rule, source=rule.source,
                                                description=rule.description, passing=[]),
                      policy=PolicyRef(**policy.describe()),
                      baseline=BaselineRef(run_dir=str(run.root) if run else None, tag=None),
                      run_dir=str(run.root) if run else "")


def write_gate(run: RunDir, result: GateResult, *, junit_path: str | Path | None = None) -> Path:
    """gate.json, report/junit.xml and report/summary.md; returns gate.json's path."""
    path = write_gate_json(run.gate, result)
    write_junit(result, Path(junit_path) if junit_path else run.report_dir / "junit.xml")
    write_summary_md(result, run.report_dir / "summary.md")
    return path
