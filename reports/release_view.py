"""The chain of releases a run belongs to, as the model card and the export bundle show it.

Read from the run's release pointer (RUN/release.json, written by `medgate release`), so
the documents need no registry at hand: each release with its verdict, its data hashes,
and what changed from the one before (compatibility, checks, data).
"""

from __future__ import annotations

from typing import Any

from harness.core.rundir import RunDir
from reports.releases import read_run_pointer


def _row(entry: dict[str, Any]) -> dict[str, Any]:
    data = entry.get("data") or {}
    changed = list(entry.get("incompatible_changes") or [])
    changed += [f"newly passes: {n}" for n in entry.get("checks_newly_pass") or []]
    changed += [f"newly fails: {n}" for n in entry.get("checks_newly_fail") or []]
    changed += [f"changed: {d}" for d in entry.get("data_changed") or []]
    return {
        "version": entry.get("version"), "released_at": entry.get("released_at"),
        "previous": entry.get("previous"), "verdict": entry.get("verdict"),
        "run_id": entry.get("run_id"), "tag": entry.get("tag"),
        "gate_sha256": entry.get("gate_sha256"),
        "knowledge_cutoff": entry.get("knowledge_cutoff"), "notes": entry.get("notes"),
        "backward_compatible": entry.get("backward_compatible"),
        "training_data": data.get("training") or {},
        "evaluation_data": {k: v for k, v in (data.get("evaluation") or {}).items() if v},
        "changes": changed,
    }


def releases_context(run: RunDir) -> dict[str, Any] | None:
    """{version, chain: [rows, oldest first]} for a released run, None otherwise."""
    pointer = read_run_pointer(run)
    if pointer is None:
        return None
    return {"version": pointer.get("version"), "registry": pointer.get("registry"),
            "chain": [_row(e) for e in pointer["chain"] if isinstance(e, dict)]}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def markdown_lines(releases: dict[str, Any] | None) -> list[str]:
    """The Releases / lineage section of the Hugging Face README."""
    if not releases:
        return []
    lines = ["", "## Releases / lineage", "",
             f"This model is release **{_cell(releases['version'])}**.", "",
             ("| version | previous | verdict | knowledge cutoff | backward compatible | "
              "training data sha256 | what changed |"),
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in releases["chain"]:
        data = ", ".join(f"{k}: {str(v)[:12]}" for k, v in r["training_data"].items()) or "—"
        compatible = {True: "yes", False: "no", None: "—"}[r["backward_compatible"]]
        changed = ("first release" if not r["previous"]
                   else "; ".join(r["changes"]) or "no check or data changed")
        lines.append(f"| {_cell(r['version'])} | {_cell(r['previous'] or '—')} | "
                     f"{_cell(r['verdict'])} | {_cell(r['knowledge_cutoff'] or '—')} | "
                     f"{compatible} | {_cell(data)} | {_cell(changed)} |")
    return lines
