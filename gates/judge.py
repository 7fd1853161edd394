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
    ItemPart,
    PolicyRef,
    SelectionRecord,
    SelectionRule,
    SelectionSource,
    SplitRecord,
    read_gate,
    write_gate_json,
)
from gates.review import adjudicate, read_reviews
from gates.select import select_checkpoint
from gates.sequential import INFO_KEY, planned_ids, run_record
from gates.split import METHOD as SPLIT_METHOD
from gates.split import count_items
from gates.summary_md import write_summary_md
from harness.core.errors import BadInputError
from harness.core.rundir import BASE_TAG, RunDir
from harness.core.summaries import finite, read_summaries


def resolve_baseline_tag(baseline: RunDir) -> str:
    """The model of a baseline run to compare with: its promoted checkpoint, else base."""
    if baseline.gate.exists():
        gate = read_gate(baseline.gate)
        if gate.verdict == PROMOTE and gate.selected:
            return gate.selected
    return BASE_TAG


def _base_evidence(run: RunDir, baseline: RunDir | None, baseline_tag: str | None,
                   policy: Policy, part: ItemPart) -> tuple[ModelEvidence, BaselineRef]:
    fraction = policy.selection.confirm_fraction
    if baseline is None:
        tag = baseline_tag or BASE_TAG
        return (ModelEvidence(run.eval_dir(tag), tag, part=part, confirm_fraction=fraction,
                              adjudications=adjudicate(read_reviews(run))),
                BaselineRef(run_dir=str(run.root), tag=tag))
    tag = baseline_tag or resolve_baseline_tag(baseline)
    return (ModelEvidence(baseline.eval_dir(tag), f"baseline {baseline.root}/{tag}", part=part,
                          confirm_fraction=fraction),
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
    """The ranking metric on the evidence's items (the selection part with the split on)."""
    try:
        value = model.metric(policy.selection.suite, policy.selection.metric).value
    except EvidenceError:
        return None
    return finite(value)


def _part(policy: Policy) -> ItemPart:
    """The items candidates are judged and ranked on."""
    return "selection" if policy.selection.confirm_fraction > 0 else "all"


def _model(run: RunDir, tag: str, policy: Policy, device: str | None,
           part: ItemPart) -> ModelEvidence:
    return ModelEvidence(run.eval_dir(tag), tag, device, part=part,
                         confirm_fraction=policy.selection.confirm_fraction,
                         adjudications=adjudicate(read_reviews(run)))


def judge_checkpoint(run: RunDir, tag: str, policy: Policy, *, baseline: RunDir | None = None,
                     baseline_tag: str | None = None) -> CheckpointVerdict:
    """Every check of `policy` for one evaluated model, on the items that choose.

    This is the screen while training runs (the printed verdict, gate early stopping): it
    reads the selection part only, so what stopped training or ranked the checkpoints
    never touches the items that confirm the verdict.
    """
    part = _part(policy)
    base, _ = _base_evidence(run, baseline, baseline_tag, policy, part)
    return _judge(_model(run, tag, policy, run_device(run), part), tag, policy, base,
                  policy.confidence)


def selection_metric(run: RunDir, tag: str, policy: Policy, suite: str | None,
                     metric: str | None) -> float | None:
    """A metric of one model on the items that choose (None when missing or unwatched):
    what gate early stopping reads."""
    if suite is None or metric is None:
        return None
    model = _model(run, tag, policy, None, _part(policy))
    try:
        return finite(model.metric(suite, metric).value)
    except EvidenceError:
        return None


def _judge(model: ModelEvidence, tag: str, policy: Policy, base: ModelEvidence,
           confidence: float) -> CheckpointVerdict:
    checks = [evaluate_check(check, policy, model, base, confidence=confidence)
              for check in policy.checks]
    gated = [c for c in checks if c.gated]
    ok = bool(gated) and all(c.passed is True for c in gated)
    return CheckpointVerdict(tag=tag, verdict=PROMOTE if ok else BLOCK, checks=checks,
                             primary=_primary(model, policy), demo_suites=model.demo_suites())


def _split_record(policy: Policy, base: ModelEvidence, candidates: int,
                  confidence: float) -> SplitRecord:
    fraction = policy.selection.confirm_fraction
    if fraction <= 0:
        return SplitRecord(enabled=False, confirm_fraction=0.0, candidates=candidates,
                           correction="bonferroni" if candidates > 1 else "none",
                           confidence=confidence,
                           method=f"no split: every candidate judged on all items at "
                                  f"1 - (1 - {policy.confidence:g}) / {max(candidates, 1)}")
    items: dict[str, dict[str, int]] = {}
    for suite in dict.fromkeys(c.suite for c in policy.checks):
        try:
            # the items planned: a sequential evaluation scores the confirming ones only
            # once a candidate is chosen
            planned = planned_ids(base.on("all"), suite)
            items[suite] = count_items(planned if planned is not None else
                                       (r.item_id for r in base.all_records(suite)), fraction)
        except EvidenceError:
            continue  # the checks on that suite fail with the reason
    return SplitRecord(enabled=True, confirm_fraction=fraction, method=SPLIT_METHOD,
                       candidates=candidates, correction="none", confidence=confidence,
                       items=items)


def judge_run(run: RunDir, policy: Policy, *, baseline: RunDir | None = None,
              tags: list[str] | None = None, baseline_tag: str | None = None,
              selection: SelectionRule | None = None,
              selection_source: SelectionSource = "config") -> GateResult:
    """Judge every evaluated checkpoint (all model tags but base unless `tags` is given).

    With the policy's split on, the candidates are judged and ranked on the selection
    items, and the one chosen is judged on the confirmation items, whose verdict is the
    run's: a chosen checkpoint that fails confirmation BLOCKs the run (falling back to the
    next candidate would choose on the confirmation items). With the split off, every
    candidate is judged on all items at a Bonferroni-corrected confidence.

    `selection` overrides the policy's selection rule (None keeps the policy's);
    `selection_source` names who overrode it, for gate.json.
    """
    if tags is None:
        tags = [t for t in run.model_tags() if t != BASE_TAG]
    part = _part(policy)
    k = len(tags)
    confidence = policy.confidence if part != "all" or k <= 1 else \
        1 - (1 - policy.confidence) / k
    base, baseline_ref = _base_evidence(run, baseline, baseline_tag, policy, part)
    device = run_device(run)
    models = {tag: _model(run, tag, policy, device, part) for tag in tags}
    verdicts = {tag: _judge(model, tag, policy, base, confidence)
                for tag, model in models.items()}
    chosen, record = select_checkpoint(verdicts, policy.selection, selection,
                                       selection_source)
    confirmation = None
    if chosen is not None and part == "selection":
        confirmation = _judge(models[chosen].on("confirmation"), chosen, policy,
                              base.on("confirmation"), policy.confidence)
    deciding = confirmation or (verdicts[chosen] if chosen else None)
    selected = chosen if deciding is not None and deciding.passed else None
    reasons: list[str] = []
    if not verdicts:
        reasons.append(f"no checkpoint evaluations under {run.evals_dir} to judge")
    elif chosen is None:
        for tag, v in verdicts.items():
            for c in v.failed:
                reasons.append(f"{tag}: {c.name}: {c.reason}")
    elif selected is None:
        reasons.append(f"{chosen} was chosen on the selection items ({record.description}) "
                       f"but does not pass on the held-out confirmation items")
        for c in confirmation.failed:
            reasons.append(f"{chosen} (confirmation items): {c.name}: {c.reason}")
    else:
        on = ("on the held-out confirmation items" if confirmation is not None else
              f"on all items at confidence {confidence:.4g}")
        reasons.append(f"{selected} passes every gated check of policy '{policy.name}' {on} "
                       f"({record.description})")
    return GateResult(verdict=PROMOTE if selected else BLOCK, selected=selected,
                      reasons=reasons, selection=record, checkpoints=verdicts,
                      split=_split_record(policy, base, k, confidence), chosen=chosen,
                      confirmation=confirmation, policy=PolicyRef(**policy.describe()),
                      baseline=baseline_ref, run_dir=str(run.root),
                      sequential=_sequential_record(run, tags))


def _sequential_record(run: RunDir, tags: list[str]) -> dict[str, Any]:
    """How the evidence of the base and the candidates was gathered (gates.sequential)."""
    infos: dict[str, dict[str, Any]] = {}
    for tag in [BASE_TAG, *tags]:
        try:
            summaries = read_summaries(run.eval_dir(tag))
        except BadInputError:
            continue  # the checks on it fail closed with the reason
        infos[tag] = {suite: s.info.extra for suite, s in summaries.items()}
    sequential = any(INFO_KEY in info for by in infos.values() for info in by.values())
    return run_record(infos, exhaustive=not sequential)


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
