"""Promotion: copy the selected checkpoint's adapter (and merged weights) to promoted/.

A full fine-tune's checkpoint is the whole model: its weights, config and tokenizer go to
promoted/merged/ (there is no adapter), without the optimizer, scheduler, random states
and trainer bookkeeping saved beside them for resuming training.

Promotion is the only step that makes a model deployable, so it refuses anything but a
PROMOTE verdict for the same tag, binds the copy to the exact gate.json by its sha256,
and writes lineage.json (base fingerprint, data hashes, config, policy, file hashes) so
the promoted weights can be traced back to the evidence that let them through. The
folder is built beside promoted/ and renamed into place, so a crash never leaves a
half-copied promotion that looks complete.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from gates.result import PROMOTE, GateResult, read_gate
from harness.core.atomic import write_json
from harness.core.errors import BadInputError
from harness.core.io import file_sha256
from harness.core.models import checkpoint_kind, is_training_state
from harness.core.rundir import FINAL_TAG, RunDir
from harness.core.secrets import redact

_SECRET_KEYS = ("token", "secret", "password", "api_key", "apikey")


def checkpoint_dirs(run: RunDir, tag: str) -> tuple[Path, Path | None]:
    """(adapter folder, merged-weights folder or None) of a model tag in the run."""
    if tag == FINAL_TAG:
        return run.adapters_dir, run.merged_dir if run.merged_dir.is_dir() else None
    if not tag.startswith("checkpoint-"):
        raise BadInputError(f"cannot promote '{tag}': only checkpoint-N or final")
    folder = run.checkpoints_dir / tag
    merged = folder / "merged"
    return folder, merged if merged.is_dir() else None


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): file_sha256(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _scrub(obj: Any) -> Any:
    """Lineage is written to disk: drop secret-named keys and redact known secret values."""
    if isinstance(obj, dict):
        return {k: _scrub(v) for k, v in obj.items()
                if not any(s in str(k).lower() for s in _SECRET_KEYS)}
    if isinstance(obj, list | tuple):
        return [_scrub(v) for v in obj]
    if isinstance(obj, str):
        return redact(obj)
    return obj


def _copy_model_files(src: Path, dst: Path) -> None:
    """The model's files only: optimizer state and RNG snapshots are not part of a model."""
    shutil.copytree(src, dst, ignore=lambda d, names: [
        n for n in names if is_training_state(Path(n)) or (Path(d) == src and n == "merged")])


def _method(lineage: dict[str, Any]) -> str | None:
    config = lineage.get("config")
    peft = config.get("peft") if isinstance(config, dict) else None
    method = peft.get("method") if isinstance(peft, dict) else None
    return method if isinstance(method, str) else None


def _kind(run: RunDir, tag: str, lineage: dict[str, Any]) -> tuple[str, Path, Path | None]:
    """('adapter' or 'full', the folder to copy, merged weights beside an adapter or None);
    the folder must hold what the run's config says it trained."""
    adapter, merged = checkpoint_dirs(run, tag)
    folder = adapter
    if tag == FINAL_TAG and not adapter.is_dir() and merged is not None:
        folder = merged  # a full fine-tune's final model is merged/ itself
    kind = checkpoint_kind(folder)
    method = _method(lineage)
    if kind is None:
        raise BadInputError(f"nothing to promote for '{tag}': neither an adapter "
                            "(adapter_config.json) nor a whole model (config.json and weights)",
                            where=str(folder))
    if method is not None and (method == "full") != (kind == "full"):
        raise BadInputError(f"'{tag}' holds {'a whole model' if kind == 'full' else 'an adapter'}"
                            f" but the run's peft.method is {method}", where=str(folder))
    return kind, folder, merged if kind == "adapter" else None


def _merge(lineage: dict[str, Any], adapter: Path, out: Path) -> str:
    """Merge with finetune.merge when it is installed; returns how merged/ came to be."""
    try:
        from finetune.merge import merge_adapter
    except ImportError:
        return "not merged: finetune.merge is not available"
    base = lineage.get("base_model")
    if not isinstance(base, dict) or not base.get("source"):
        return "not merged: lineage has no base_model to merge into"
    from harness.core.models import ModelSpec

    spec = ModelSpec(**{k: base.get(k) for k in ("name", "source", "gguf_file", "revision")})
    try:
        merge_adapter(spec, adapter, out)
    except BadInputError as exc:  # e.g. a prefix-tuning adapter has nothing to fold in
        shutil.rmtree(out, ignore_errors=True)
        return f"not merged: {exc}"
    return "merged from the adapter with finetune.merge.merge_adapter"


def promote(run: RunDir, tag: str, result: GateResult, *, lineage: dict[str, Any]) -> Path:
    """Copy `tag` into promoted/ with lineage.json; only for a PROMOTE verdict on `tag`."""
    if result.verdict != PROMOTE or result.selected != tag:
        raise BadInputError(f"refusing to promote '{tag}': gate verdict is {result.verdict}, "
                            f"selected {result.selected}")
    if not run.gate.exists():
        raise BadInputError("write gate.json before promoting (lineage binds to its sha256)",
                            where=str(run.gate))
    gate = read_gate(run.gate)
    if gate.verdict != PROMOTE or gate.selected != tag:
        raise BadInputError(f"gate.json on disk does not promote '{tag}'", where=str(run.gate))
    kind, source, merged = _kind(run, tag, lineage)

    final = run.promoted_dir
    staging = final.with_name(f".{final.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        if kind == "full":
            _copy_model_files(source, staging / "merged")
            how = f"copied from {source}: a full fine-tune's checkpoint is the whole model"
        else:
            _copy_model_files(source, staging / "adapter")
            if merged is not None:
                shutil.copytree(merged, staging / "merged")
                how = f"copied from {merged}"
            else:
                how = _merge(lineage, staging / "adapter", staging / "merged")
        record = {
            "promoted_tag": tag,
            "promoted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "run_dir": str(run.root),
            "gate": {"path": str(run.gate), "sha256": file_sha256(run.gate),
                     "verdict": gate.verdict, "policy": gate.policy.model_dump(mode="json"),
                     "selection": gate.selection.model_dump(mode="json")},
            "fine_tune": "full fine-tune" if kind == "full" else "adapter",
            "adapter": None if kind == "full" else {"source": str(source),
                                                    "files": _hashes(staging / "adapter")},
            "merged": {"how": how, "files": _hashes(staging / "merged")
                       if (staging / "merged").is_dir() else None},
            **_scrub(lineage),
        }
        write_json(staging / "lineage.json", record)
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final
