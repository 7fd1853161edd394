"""Everything a report shows, read once from a run directory and never from a model.

Other parts of the pipeline are written by other commands, some of which may not have run
(no gate yet, no preflight, a crashed suite). Reading is therefore defensive: a missing
file becomes an entry in `missing` that the pages show, never an exception; a malformed
file is still bad input and names file and line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gates.result import CheckpointVerdict, CheckResult, GateResult, read_gate
from gates.wording import collapse_line, collapse_sentence
from harness.core.errors import BadInputError
from harness.core.io import read_yaml
from harness.core.records import read_records
from harness.core.rundir import BASE_TAG, RunDir
from harness.core.summaries import MetricEntry, SuiteInfo, SuiteSummary, read_summaries
from suites.registry import find_spec

# Roles (suite tags) of the suites in the model card's safety section and the checklist's
# safety item.
SAFETY_ROLES = ("safety", "critical")


def is_run_dir(root: Path) -> bool:
    """A run directory has at least one of the files only medgate writes there."""
    run = RunDir(root)
    return root.is_dir() and any(
        p.exists() for p in (run.config, run.gate, run.manifest, run.evals_dir, run.history))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON ({exc.msg})", where=f"{path}:{exc.lineno}") from exc


def _spread_field(entry: MetricEntry, name: str) -> Any:
    """A field of an answer_spread entry, whether MetricEntry types it or keeps it as extra."""
    value = getattr(entry, name, None)
    return entry.extra.get(name) if value is None else value


@dataclass
class RunData:
    """The run's evidence as plain data, plus the list of expected files that are absent."""

    run: RunDir
    config: dict[str, Any] = field(default_factory=dict)
    gate: GateResult | None = None
    summaries: dict[str, dict[str, SuiteSummary]] = field(default_factory=dict)
    records: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    record_files: dict[str, Path] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    train_result: dict[str, Any] | None = None
    preflight: dict[str, Any] | None = None
    manifest: dict[str, Any] | None = None
    missing: list[str] = field(default_factory=list)

    # --- which model the reports are about --------------------------------------------
    @property
    def tags(self) -> list[str]:
        return self.run.model_tags()

    @property
    def candidate_tags(self) -> list[str]:
        return [t for t in self.tags if t != BASE_TAG]

    @property
    def selected(self) -> str | None:
        return self.gate.selected if self.gate else None

    @property
    def chosen(self) -> str | None:
        """The candidate the selection rule picked, promoted or not."""
        return self.gate.chosen if self.gate else None

    @property
    def subject_tag(self) -> str | None:
        """The model the card describes: the gate's selection, else the candidate it chose
        (and blocked on the confirmation items), else the last candidate."""
        for tag in (self.selected, self.chosen):
            if tag and tag in self.summaries:
                return tag
        candidates = self.candidate_tags
        if candidates:
            return candidates[-1]
        return BASE_TAG if BASE_TAG in self.tags else None

    @property
    def verdict(self) -> str:
        return self.gate.verdict if self.gate else "NOT GATED"

    @property
    def subject_verdict(self) -> CheckpointVerdict | None:
        """The verdict the reports judge the described model by: its confirmation on the
        held-out items when the gate confirmed it, else its own candidate verdict."""
        if self.gate is None:
            return None
        tag = self.subject_tag
        confirmation = self.gate.confirmation
        if confirmation is not None and (confirmation.tag or self.gate.chosen) == tag:
            return confirmation
        return self.gate.checkpoints.get(tag or "")

    # --- suites ---------------------------------------------------------------------
    def suites(self) -> list[str]:
        seen: list[str] = []
        for tag in self.tags:
            for suite in list(self.summaries.get(tag, {})) + list(self.records.get(tag, {})):
                if suite not in seen:
                    seen.append(suite)
        return seen

    def summary(self, tag: str | None, suite: str) -> SuiteSummary | None:
        return self.summaries.get(tag or "", {}).get(suite)

    def metrics(self, tag: str | None, suite: str) -> dict[str, MetricEntry]:
        """The suite's metrics for one model; {} when it was not evaluated or crashed."""
        summary = self.summary(tag, suite)
        return dict(summary.metrics) if summary else {}

    def suite_info(self, suite: str) -> SuiteInfo:
        """What the suite was measured on: the described model's entry first."""
        for tag in [self.subject_tag, *self.tags]:
            summary = self.summary(tag, suite)
            if summary and (summary.info.model_fields_set or summary.info.model_extra):
                return summary.info
        return SuiteInfo()

    def suite_tags(self, suite: str) -> tuple[str, ...]:
        """The suite's roles as recorded with its results, so that the run directory alone
        says them (also for a suite the user declared outside the package); else from the
        suite registry, for runs written before roles were recorded; () if neither knows."""
        for tag in [self.subject_tag, *self.tags]:
            summary = self.summary(tag, suite)
            recorded = summary.info.extra.get("tags") if summary else None
            if isinstance(recorded, list):
                return tuple(str(t) for t in recorded)
        spec = find_spec(suite)
        return spec.tags if spec else ()

    def has_role(self, suite: str, *roles: str) -> bool:
        return any(role in self.suite_tags(suite) for role in roles)

    def suites_with(self, *roles: str) -> list[str]:
        """The run's suites with any of `roles`, in evaluation order."""
        return [s for s in self.suites() if self.has_role(s, *roles)]

    def is_demo(self, suite: str) -> bool:
        if self.suite_info(suite).demo:
            return True
        return any(r.get("demo") for recs in self.records.values() for r in recs.get(suite, []))

    def training_provenance(self) -> dict[str, Any]:
        """Where the training data came from: preflight's provenance, then the manifest's."""
        merged: dict[str, Any] = {}
        for source in ((self.manifest or {}).get("data"), (self.preflight or {}).get("provenance")):
            if isinstance(source, dict):
                merged.update(source)
        return merged

    @property
    def training_demo(self) -> bool:
        return bool(self.training_provenance().get("demo")) or (
            (self.config.get("dataset") or {}).get("name") == "demo")

    def demo_suites(self) -> list[str]:
        return [s for s in self.suites() if self.is_demo(s)]

    def suite_errors(self) -> list[tuple[str, str, str]]:
        """(tag, suite, message) for every suite whose evaluation crashed."""
        return [(tag, suite, summary.error) for tag, by_suite in self.summaries.items()
                for suite, summary in by_suite.items() if summary.error]

    def metric(self, tag: str | None, suite: str, name: str) -> MetricEntry | None:
        return self.metrics(tag, suite).get(name)

    def checks(self, tag: str | None = None) -> list[CheckResult]:
        """The gate's checks of `tag` as a candidate; with no tag, those of the verdict that
        judges the described model (`subject_verdict`)."""
        if self.gate is None:
            return []
        verdict = self.subject_verdict if tag is None else self.gate.checkpoints.get(tag)
        return list(verdict.checks) if verdict else []

    def collapsed(self) -> dict[str, str]:
        """{suite: sentence} for the suites on which the described model's answers collapsed
        onto one option: its summary's answer_spread says degenerate, or a check judging it
        carries `degenerate`. Such a benchmark carried no information about the model."""
        found: dict[str, str] = {}
        for suite in self.suites():
            entry = self.metric(self.subject_tag, suite, "answer_spread")
            if entry is None or _spread_field(entry, "degenerate") is not True:
                continue
            spread = {k: _spread_field(entry, k) for k in ("modal", "modal_share",
                                                           "entropy_bits", "counts")}
            if spread["modal_share"] is None:
                spread["modal_share"] = entry.value  # the entry's value is the modal share
            spread["n"] = entry.n
            found[suite] = str(collapse_sentence(spread))
        for check in self.checks():
            suite = check.suite or check.metric.split(".", 1)[0]
            line = collapse_line(check)
            if line and suite not in found:
                found[suite] = line
        return found

    def rel(self, path: Path) -> str:
        return path.relative_to(self.run.root).as_posix()


def load_run(root: str | Path | RunDir) -> RunData:
    """Read a run directory; exit-2 error when `root` is not one."""
    root = root.root if isinstance(root, RunDir) else Path(root)
    if not is_run_dir(root):
        raise BadInputError("not a medgate run directory (no config.resolved.yaml, gate.json, "
                            "manifest.json, evals/ or train/history.json)", where=str(root))
    run = RunDir(root)
    data = RunData(run=run)

    if run.config.exists():
        loaded = read_yaml(run.config)
        data.config = loaded if isinstance(loaded, dict) else {}
    else:
        data.missing.append("config.resolved.yaml")

    if run.gate.exists():
        data.gate = read_gate(run.gate)  # typed: a renamed or malformed key is bad input
    else:
        data.missing.append("gate.json")

    for tag in run.model_tags():
        eval_dir = run.eval_dir(tag)
        summary = read_summaries(eval_dir)
        if summary:
            data.summaries[tag] = summary
        else:
            data.missing.append(f"evals/{tag}/summary.json")
        data.records[tag] = {}
        for path in sorted(eval_dir.glob("*.records.jsonl")):
            suite = path.name[: -len(".records.jsonl")]
            data.records[tag][suite] = [r.model_dump(mode="json") for r in read_records(path)]
            data.record_files[data.rel(path)] = path
    if not run.model_tags():
        data.missing.append("evals/")

    if run.history.exists():
        history = _read_json(run.history)
        data.history = [h for h in history if isinstance(h, dict)] if isinstance(history, list) else []
    else:
        data.missing.append("train/history.json")

    result_path = run.train_dir / "result.json"
    if result_path.exists():  # absent in evaluation-only runs: nothing to report missing
        result = _read_json(result_path)
        data.train_result = result if isinstance(result, dict) else None

    if run.preflight.exists():
        preflight = _read_json(run.preflight)
        data.preflight = preflight if isinstance(preflight, dict) else None
    else:
        data.missing.append("data/preflight.json")

    if run.manifest.exists():
        manifest = _read_json(run.manifest)
        data.manifest = manifest if isinstance(manifest, dict) else None
    else:
        # train-and-gate writes the manifest after the reports (it hashes them).
        data.missing.append("manifest.json (train-and-gate writes it after this render; "
                            "`medgate report` re-renders with it)")
    return data
