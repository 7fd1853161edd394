"""`medgate train-and-gate`: the gated promotion pipeline.

preflight -> baseline (cached) -> train, evaluating and gating each checkpoint as it is
saved -> full evaluation of the candidates -> select the best passing checkpoint by the
policy's stated rule -> promote, or BLOCK -> reports and manifest.

Every stage writes into the run directory before the next starts, so `--resume` can pick
up where a killed run stopped and `medgate gate` can re-judge without running a model.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.table import Table

from finetune.datasets import read_replay_rows, read_training_rows, read_validation_rows
from finetune.preference import read_preference_rows
from finetune.recipes.preflight import recipe_sources
from finetune.recipes.record import configured
from gates import (
    judge_checkpoint,
    judge_run,
    load_policy,
    preflight_block,
    promote,
    selection_metric,
    write_gate,
)
from gates.early_stop import GateEarlyStopping
from harness.app.evaluation import evaluate_model
from harness.app.judge_check import check_llm_judges
from harness.app.preflight import TrainingSource, run_preflight
from harness.app.resume import (
    check_resumable,
    ended_without_result,
    finished_training,
    missing_suites,
    remove_partial_files,
)
from harness.app.sequential import SequentialPlan, gated_suites
from harness.core.backends import open_model
from harness.core.config import MedgateConfig, write_resolved
from harness.core.console import err
from harness.core.errors import EXIT_BLOCKED, EXIT_OK, BadInputError
from harness.core.manifest import write_manifest
from harness.core.models import checkpoint_kind, fingerprint, resolve_model
from harness.core.rundir import BASE_TAG, RunDir, checkpoint_tag, saved_checkpoints
from harness.core.summaries import read_summaries
from reports import render_all
from suites.registry import eval_item_texts


@dataclass
class PipelineOutcome:
    verdict: str
    selected: str | None
    reasons: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.verdict == "PROMOTE" else EXIT_BLOCKED


class _Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def stage(self, name: str):
        watch = self

        class _Stage:
            def __enter__(self_inner):
                err.rule(f"[bold]{name}")
                self_inner.start = time.perf_counter()

            def __exit__(self_inner, *exc):
                watch.timings[name] = round(time.perf_counter() - self_inner.start, 2)
                return False

        return _Stage()


def _evaluate(config: MedgateConfig, run: RunDir, tag: str, *, adapter: Path | None,
              limit: int | None, resume: bool = False,
              exclude: dict[str, set[str]] | None = None,
              plan: SequentialPlan | None = None) -> dict[str, Any] | None:
    """Evaluate one model on the configured suites; with `resume`, only the suites whose
    records are not already complete (None when nothing was left to do). With `plan`,
    suites are scored sequentially (harness.app.sequential).

    `adapter` is the checkpoint folder (None: the base model). A full fine-tune's
    checkpoint is a whole model, opened as the model rather than applied to the base."""
    suites = list(config.evaluation.suites)
    if resume:
        suites = missing_suites(run.eval_dir(tag), suites, limit, config.evaluation.limits,
                                part=plan.part if plan is not None else None)
        if not suites:
            err.print(f"{tag}: every suite already evaluated; kept")
            return None
    model = config.model.name
    if adapter is not None and config.peft.method == "full":
        if checkpoint_kind(adapter) != "full":
            raise BadInputError("peft.method is full but the checkpoint holds no whole model "
                                "(config.json and weights)", where=str(adapter))
        model, adapter = str(adapter), None
    handle = open_model(model, adapter=adapter, backend=config.evaluation.backend,
                        tag=tag, dtype=config.model.dtype, token=config.hf_token(),
                        batch_size=config.evaluation.batch_size,
                        generation_batch_size=config.evaluation.generation_batch_size)
    if plan is not None and tag != BASE_TAG:
        plan = replace(plan, base_dir=run.eval_dir(BASE_TAG))
    return evaluate_model(handle, suites, run.eval_dir(tag), data=dict(config.evaluation.data),
                          limit=limit, config=config.evaluation, exclude=exclude,
                          sequential=plan)


@dataclass(frozen=True)
class _Plans:
    """The sequential plans of one run (all None when evaluation is exhaustive).

    `choosing`: the base and every candidate while the candidates are chosen: the choosing
    items of the suites a gated check reads, each suite stopped when settled (paired
    suites score all of them). `final`: the base and the chosen candidate once one is
    chosen: the confirming items, and the suites no gated check reads (for the report)."""

    choosing: SequentialPlan | None
    final: SequentialPlan | None


def _plans(config: MedgateConfig, policy, compared: frozenset[str]) -> _Plans:
    """`compared`: the suites candidates are ranked on, scored on every choosing item."""
    if config.evaluation.exhaustive or config.evaluation.checkpoint_limit is not None:
        # checkpoint_limit is its own screen: a quick look while training, then every
        # candidate scored in full against a base scored in full
        return _Plans(None, None)
    device = _device()
    gated = gated_suites(policy, device)
    ungated = frozenset(s for s in config.evaluation.suites if s not in gated)
    seed = config.evaluation.seed
    report_only = ungated - compared
    if policy.selection.confirm_fraction > 0:
        choosing = SequentialPlan(policy, "selection", device, seed, skip=report_only,
                                  compared=compared)
        final = SequentialPlan(policy, "confirmation", device, seed, full=report_only)
    else:  # every gated or compared item is scored while choosing: the report's are left
        choosing = SequentialPlan(policy, "all", device, seed, skip=report_only,
                                  compared=compared)
        final = SequentialPlan(policy, "all", device, seed, full=report_only,
                               skip=gated | compared)
    return _Plans(choosing, final)


def compared_suites(config: MedgateConfig, policy, early_stop: GateEarlyStopping,
                    extra: frozenset[str] = frozenset()) -> frozenset[str]:
    """The evaluated suites candidates are ranked on: the selection rule's (best_primary,
    the config's rule over the policy's), gate early stopping's watched metric, and `extra`
    (a study's objectives)."""
    ranked = set(extra)
    if (config.gates.selection or policy.selection.rule) == "best_primary":
        ranked.add(policy.selection.suite)
    if early_stop.active and early_stop.suite is not None:
        ranked.add(early_stop.suite)
    return frozenset(ranked) & frozenset(config.evaluation.suites)


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def run_pipeline(config: MedgateConfig, run: RunDir, *, resume: bool = False,
                 confirm: bool = True, ranked_on: frozenset[str] = frozenset()
                 ) -> PipelineOutcome:
    """Run every stage; with `resume`, keep what a killed run already finished.

    `confirm=False` stops once the candidates are evaluated (a trial of `medgate tune`,
    judged by the study on the selection items alone): no confirmation gate, promotion or
    reports; resuming the run with `confirm=True` later does those from the records.
    `ranked_on`: suites the caller ranks candidates on besides the policy's selection
    metric (a study's objectives): scored on every choosing item, like that metric."""
    watch = _Stopwatch()
    check_llm_judges(config.evaluation)
    if resume:
        resume = check_resumable(config, run)
        for path in remove_partial_files(run) if resume else []:
            err.print(f"resume: removed {path} (half-written or stale)",
                      highlight=False)
    write_resolved(config, run.config)
    # The environment (above all: is there a GPU) is on record before any checkpoint is
    # judged, so a check gated on the device is judged in training as it is on re-judging.
    write_manifest(run, extra={"status": "running"})
    policy = load_policy(config.gates.policy)
    early_stop = GateEarlyStopping(config.gates.early_stop, [c.name for c in policy.checks],
                                   list(config.evaluation.suites))

    with watch.stage("data preflight"):
        preflight = run_data_preflight(config, run)
    if preflight is not None and not preflight.passed:
        return _block_on_preflight(config, run, preflight, policy, watch)
    exclude = {name: preflight.excluded_items(name) for name in config.evaluation.suites}

    plans = _plans(config, policy, compared_suites(config, policy, early_stop, ranked_on))
    with watch.stage("baseline: base model on every suite" if plans.choosing is None
                     else "baseline: base model on the choosing items"):
        _evaluate(config, run, BASE_TAG, adapter=None, limit=config.evaluation.limit,
                  resume=resume, exclude=exclude, plan=plans.choosing)

    subset = config.evaluation.checkpoint_limit
    first_limit = subset if subset is not None else config.evaluation.limit
    evaluated: set[str] = set()

    def on_checkpoint(step: int, checkpoint_dir: Path) -> str | None:
        """Evaluate and gate a checkpoint as it is saved; a reason returned stops training."""
        tag = checkpoint_tag(step)
        with _training_rng_kept():
            _evaluate(config, run, tag, adapter=checkpoint_dir, limit=first_limit, resume=resume,
                      exclude=exclude, plan=plans.choosing)
        evaluated.add(tag)
        # Judged on the selection items only: the screen and early stopping choose, and the
        # items that confirm the verdict must take no part in choosing.
        verdict = judge_checkpoint(run, tag, policy)
        failed = [c.name for c in verdict.failed]
        err.print(f"[bold]{tag}[/] (selection items): {verdict.verdict}"
                  + (f" (not passed: {', '.join(failed)})" if failed else ""))
        if not early_stop.active:
            return None
        reason = early_stop.update(tag, verdict.checks, selection_metric(
            run, tag, policy, early_stop.suite, early_stop.metric))
        if reason:
            err.print(f"[yellow]gate early stopping:[/] {reason}", highlight=False)
            return f"gate early stopping: {reason}"
        return None

    with watch.stage("training (each checkpoint evaluated and gated as it is saved)"):
        checkpoints = _train(config, run, on_checkpoint, resume)

    # A resumed run has checkpoints saved before the kill whose evaluation was cut short
    # (or never began): the training hook will not fire for them again.
    late = [(step, path) for step, path in checkpoints
            if checkpoint_tag(step) not in evaluated and subset is None]
    if late:
        with watch.stage("evaluation of checkpoints saved before the interruption"):
            for step, path in late:
                _evaluate(config, run, checkpoint_tag(step), adapter=path, limit=first_limit,
                          resume=resume, exclude=exclude, plan=plans.choosing)

    candidates = [checkpoint_tag(step) for step, _ in checkpoints]
    if subset is not None:
        with watch.stage("full evaluation of the candidates"):
            for step, path in checkpoints:
                _evaluate(config, run, checkpoint_tag(step), adapter=path,
                          limit=config.evaluation.limit, resume=resume, exclude=exclude)
    if not confirm:
        write_manifest(run, extra={"status": "candidates evaluated, not confirmed",
                                   "timings_s": watch.timings})
        return PipelineOutcome("UNCONFIRMED", None, [], watch.timings)

    if plans.final is not None and subset is None:
        # Only the candidate the selection items choose is scored on the confirmation items,
        # and the base on them only then (the others are never judged on them); choosing
        # reads the selection items alone.
        chosen = judge_run(run, policy, tags=candidates, selection=config.gates.selection,
                           selection_source="config").chosen
        if chosen is not None:
            path = {checkpoint_tag(step): p for step, p in checkpoints}[chosen]
            with watch.stage(f"confirmation items: base and {chosen}"):
                _evaluate(config, run, BASE_TAG, adapter=None, limit=config.evaluation.limit,
                          resume=resume, exclude=exclude, plan=plans.final)
                _evaluate(config, run, chosen, adapter=path, limit=config.evaluation.limit,
                          resume=resume, exclude=exclude, plan=plans.final)

    with watch.stage("gate"):
        # The policy's selection rule chooses unless the config names one (gates.selection).
        gate_result = judge_run(run, policy, tags=candidates, selection=config.gates.selection,
                                selection_source="config")
        write_gate(run, gate_result)

    if gate_result.verdict == "PROMOTE" and gate_result.selected:
        with watch.stage(f"promote {gate_result.selected}"):
            promote(run, gate_result.selected, gate_result,
                    lineage=_lineage(config, run, preflight))

    _finish(run, watch)
    reasons = [f"{tag}: {c.name}: {c.reason}" for tag, v in gate_result.checkpoints.items()
               for c in v.failed]
    return PipelineOutcome(gate_result.verdict, gate_result.selected, reasons, watch.timings)


@contextmanager
def _training_rng_kept():
    """Evaluation inside the training loop must not move training's random state.

    lm-eval reseeds torch, numpy and random, and scoring draws from them; without this the
    steps after a checkpoint (LoRA dropout) would depend on whether it was evaluated, and
    a run resumed from that checkpoint (whose saved RNG state predates the evaluation)
    would train differently from one that was never interrupted.
    """
    import random

    import numpy as np
    import torch

    states = (random.getstate(), np.random.get_state(), torch.get_rng_state(),
              torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])
        if states[3] is not None:
            torch.cuda.set_rng_state_all(states[3])


def _train(config: MedgateConfig, run: RunDir, on_checkpoint,
           resume: bool) -> list[tuple[int, Path]]:
    """Train (or continue training) and return the saved checkpoints, by step.

    On resume: a training that ended is not repeated; one cut short continues from its
    last complete checkpoint; one killed before its first checkpoint starts over.
    """
    import shutil

    from finetune.trainer import train  # torch and transformers: only when training

    if resume:
        done = finished_training(run)
        if done is not None:
            err.print(f"training already finished ({len(done)} checkpoints); not repeated")
            return done
        last = ended_without_result(run)
        if last is not None:
            step, folder = last
            err.print(f"{folder.name} is the end of training but the run stopped before "
                      "finishing it: its last steps are trained again, and its evaluation "
                      "is taken again from the result cache", highlight=False)
            shutil.rmtree(folder)
            shutil.rmtree(run.eval_dir(checkpoint_tag(step)), ignore_errors=True)
        resume = bool(saved_checkpoints(run))
    result = train(config, run, on_checkpoint=on_checkpoint, resume=resume)
    return sorted(result.checkpoints)


def run_data_preflight(config: MedgateConfig, run: RunDir):
    """The data gate: PHI, train/test overlap and row quality, before any model loads,
    on every input of training: the training rows, and the replay and validation rows
    when training reads them (replay holding a suite's items would hollow out its gate)."""
    rows, provenance = (read_preference_rows if config.training.method == "dpo"
                        else read_training_rows)(config)
    texts = [(row["row"], row["text"]) for row in rows]
    extra = []
    for role, reader in (("replay", read_replay_rows), ("validation", read_validation_rows)):
        found = reader(config)
        if found is not None:
            source_rows, info = found
            extra.append(TrainingSource(role, _source_where(info),
                                        [(row["row"], row["text"]) for row in source_rows]))
    extra += [TrainingSource(*found) for found in recipe_sources(config)]
    items = {name: eval_item_texts(name, config.evaluation.data.get(name))
             for name in config.evaluation.suites}
    result = run_preflight(texts, items, config=config.preflight, out_path=run.preflight,
                           provenance=provenance, extra_sources=extra)
    return result


def _source_where(info: dict[str, Any]) -> str:
    files = info.get("files") or []
    return str(files[0]["path"]) if len(files) == 1 else str(info.get("source"))


def _block_on_preflight(config: MedgateConfig, run: RunDir, preflight, policy,
                        watch: _Stopwatch) -> PipelineOutcome:
    gate_result = preflight_block(preflight, policy, selection=config.gates.selection,
                                  selection_source="config")
    write_gate(run, gate_result)
    _finish(run, watch)
    return PipelineOutcome("BLOCK", None, [f"data preflight: {r}" for r in preflight.reasons],
                           watch.timings)


def _lineage(config: MedgateConfig, run: RunDir, preflight) -> dict[str, Any]:
    spec = resolve_model(config.model.name, config.model.gguf_file, config.model.revision)
    return {
        "base_model": spec.describe(),
        "base_fingerprint": fingerprint(spec),
        "fine_tune": _fine_tune(config.peft.method)
        + (" by DPO preference tuning" if config.training.method == "dpo" else ""),
        "data": getattr(preflight, "provenance", None),
        "config": config.to_public_dict(),
        "recipes": configured(config.recipes),
    }


def _fine_tune(method: str) -> str:
    """How the promoted weights came from the base, in the lineage's words."""
    return "full fine-tune" if method == "full" else f"adapter ({method})"


def _finish(run: RunDir, watch: _Stopwatch) -> None:
    """Manifest, reports, manifest again: the pages show the manifest (package versions,
    fingerprints) and the final manifest hashes the pages. It replaces the one written at
    the start, which recorded the environment before the first gate."""
    fingerprints = _fingerprints(run)
    extra = {"status": "finished", "timings_s": watch.timings}
    write_manifest(run, fingerprints=fingerprints, extra=extra)
    with watch.stage("reports"):
        render_all(run)
    write_manifest(run, fingerprints=fingerprints, extra=extra)
    err.print(_stage_table(watch.timings))


def _stage_table(timings: dict[str, float]) -> Table:
    """The stages with their elapsed times: where the run's time went."""
    table = Table(title="stages", title_justify="left", show_edge=False)
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    for name, seconds in timings.items():
        table.add_row(name, f"{seconds:.1f}")
    table.add_row("[bold]total", f"[bold]{sum(timings.values()):.1f}")
    return table


def _fingerprints(run: RunDir) -> dict[str, str]:
    """Model tag -> weight fingerprint, as the evaluations recorded it."""
    found: dict[str, str] = {}
    for tag in run.model_tags():
        try:
            summaries = read_summaries(run.eval_dir(tag))
        except BadInputError:
            continue  # the gate has already failed closed on it; the manifest omits it
        value = next((s.info.fingerprint for s in summaries.values() if s.info.fingerprint),
                     None)
        if value:
            found[tag] = value
    return found
