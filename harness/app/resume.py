"""What a killed run already finished, so `--resume` redoes nothing and loses nothing.

A run's evidence is written stage by stage, each file atomically (harness.core.atomic): the
resolved config first, a suite's records before its summary entry, a checkpoint folder's
trainer_state.json last, train/result.json only when training ended. So a file that
exists is whole, and what is missing says where the run stopped. Items scored inside a
suite that was cut short are in the per-item result cache (harness.core.cache), which the
resumed evaluation reads back instead of scoring them again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from harness.app.evaluation import effective_limit
from harness.core.config import MedgateConfig
from harness.core.errors import BadInputError
from harness.core.records import records_path
from harness.core.rundir import CHECKPOINT_COMPLETE_MARKER, RunDir, saved_checkpoints
from harness.core.summaries import read_summaries


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out or {prefix: {}}
    return {prefix: data}


def config_differences(config: MedgateConfig, resolved_path: Path) -> list[str]:
    """Dotted keys whose values differ between `config` and a run's config.resolved.yaml."""
    try:
        saved = yaml.safe_load(resolved_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BadInputError(f"cannot read the run's resolved config ({exc})",
                            where=str(resolved_path)) from exc
    if not isinstance(saved, dict):
        raise BadInputError("not a resolved config (no mapping)", where=str(resolved_path))
    old, new = _flatten(saved), _flatten(config.to_public_dict())
    return sorted(k for k in set(old) | set(new) if old.get(k, _MISSING) != new.get(k, _MISSING))


_MISSING = object()


def check_resumable(config: MedgateConfig, run: RunDir) -> bool:
    """Refuse (exit 2, naming the keys) a resume whose config differs from the run's own.

    Returns False when the run never got as far as writing its config (nothing to resume:
    start from the beginning), True otherwise. A run whose evidence exists without its
    config cannot be trusted to have been made by this config and is refused.
    """
    if not run.config.exists():
        if run.evals_dir.exists() or run.checkpoints_dir.exists():
            raise BadInputError("--resume: the run has evaluations or checkpoints but no "
                                "config.resolved.yaml, so what made them is unknown",
                                where=str(run.root))
        return False
    differing = config_differences(config, run.config)
    if differing:
        shown = ", ".join(differing[:20]) + (f" and {len(differing) - 20} more"
                                             if len(differing) > 20 else "")
        raise BadInputError(f"--resume with a config that differs from the run's own in: "
                            f"{shown}. Resume with the same config and --set values, or start "
                            "a new --run-dir", where=str(run.config))
    return True


def remove_partial_files(run: RunDir) -> list[Path]:
    """Delete what a kill left half-written: atomic-write temporaries and checkpoint
    folders whose save was cut before trainer_state.json. Returns what was removed.

    The manifest goes too: it describes the finished run and is written again at its end;
    left in place it would tell the gate about the previous attempt (e.g. its device),
    which an uninterrupted run's gate never sees.
    """
    removed: list[Path] = []
    if run.manifest.exists():
        run.manifest.unlink()
        removed.append(run.manifest)
    for tmp in run.root.rglob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    if run.checkpoints_dir.is_dir():
        for folder in run.checkpoints_dir.glob("checkpoint-*"):
            if folder.is_dir() and not (folder / CHECKPOINT_COMPLETE_MARKER).exists():
                shutil.rmtree(folder)
                removed.append(folder)
    return removed


def suite_complete(eval_dir: Path, suite: str, limit: int | None,
                   part: str | None = None) -> bool:
    """A suite whose records and summary entry were both written, at this item limit.

    A suite that recorded an error is not complete: resuming runs it again. Nor is a
    sequential evaluation cut off between blocks, or one that has not yet scored `part`
    of the items (a candidate's confirmation items, after its selection items).
    """
    try:
        entry = read_summaries(eval_dir).get(suite)
    except BadInputError:
        return False
    if entry is None or entry.failed:
        return False
    # n_items is what the evaluator writes for every suite it finished; an entry without it
    # was not written by a finished evaluation.
    if entry.info.n_items is None or entry.info.limit != limit:
        return False
    sequential = entry.info.extra.get("sequential")
    if isinstance(sequential, dict) and (not sequential.get("complete") or (
            part is not None and part not in (sequential.get("stopped_by") or {}))):
        return False
    return records_path(eval_dir, suite).exists()  # written (atomically) before the entry


def missing_suites(eval_dir: Path, suites: list[str], limit: int | None,
                   limits: dict[str, int] | None = None, part: str | None = None) -> list[str]:
    """The suites of `suites` still to evaluate in `eval_dir`, in their order.

    `limits` are the per-suite caps of the evaluation config: a suite is complete at the
    limit it was actually scored with, the tighter of the two.
    """
    limits = limits or {}
    return [s for s in suites
            if not suite_complete(eval_dir, s, effective_limit(limit, limits.get(s)), part)]


def finished_training(run: RunDir) -> list[tuple[int, Path]] | None:
    """The checkpoints of a training that ended (train/result.json written), else None."""
    if not (run.train_dir / "result.json").exists():
        return None
    return saved_checkpoints(run)


def ended_without_result(run: RunDir) -> tuple[int, Path] | None:
    """The last checkpoint when it is the end of training (global_step reached max_steps)
    but train/result.json was never written: the kill came after the final save.

    transformers' Trainer, resumed from such a checkpoint, runs one step past max_steps;
    the caller removes it and trains its last stretch again (training is seeded and
    deterministic on one machine) instead of gating a checkpoint the plan never had.
    """
    if (run.train_dir / "result.json").exists():
        return None
    saved = saved_checkpoints(run)
    if not saved:
        return None
    step, folder = saved[-1]
    try:
        state = json.loads((folder / CHECKPOINT_COMPLETE_MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    max_steps = state.get("max_steps") if isinstance(state, dict) else None
    if isinstance(max_steps, int) and max_steps > 0 and state.get("global_step", 0) >= max_steps:
        return step, folder
    return None
