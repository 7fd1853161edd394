"""The run directory layout of DESIGN.md, in one place.

Every writer and reader asks this class for a path, so the layout cannot drift between
the trainer, the suites, the gate and the reports.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

BASE_TAG = "base"
FINAL_TAG = "final"
_TAG_RE = re.compile(r"^(base|final|checkpoint-\d+)$")


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def checkpoint_tag(step: int) -> str:
    return f"checkpoint-{step}"


def is_model_tag(name: str) -> bool:
    return bool(_TAG_RE.match(name))


class RunDir:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @classmethod
    def create(cls, root: str | Path | None = None, parent: str | Path = "runs") -> RunDir:
        run = cls(root if root is not None else Path(parent) / new_run_id())
        run.root.mkdir(parents=True, exist_ok=True)
        return run

    # files
    @property
    def config(self) -> Path:
        return self.root / "config.resolved.yaml"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def preflight(self) -> Path:
        return self.root / "data" / "preflight.json"

    @property
    def gate(self) -> Path:
        return self.root / "gate.json"

    @property
    def lock(self) -> Path:
        return self.root / ".medgate.lock"

    # folders
    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def train_dir(self) -> Path:
        return self.root / "train"

    @property
    def train_log(self) -> Path:
        return self.train_dir / "train.log"

    @property
    def history(self) -> Path:
        return self.train_dir / "history.json"

    @property
    def checkpoints_dir(self) -> Path:
        return self.root / "checkpoints"

    @property
    def adapters_dir(self) -> Path:
        return self.root / "adapters"

    @property
    def merged_dir(self) -> Path:
        return self.root / "merged"

    @property
    def evals_dir(self) -> Path:
        return self.root / "evals"

    @property
    def promoted_dir(self) -> Path:
        return self.root / "promoted"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    @property
    def signoffs_dir(self) -> Path:
        return self.root / "signoffs"

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints_dir / checkpoint_tag(step)

    def eval_dir(self, tag: str) -> Path:
        return self.evals_dir / tag

    def model_tags(self) -> list[str]:
        """Evaluated model tags, base first, checkpoints by step, final last."""
        if not self.evals_dir.is_dir():
            return []
        tags = [p.name for p in self.evals_dir.iterdir() if p.is_dir() and is_model_tag(p.name)]

        def order(tag: str) -> tuple[int, int]:
            if tag == BASE_TAG:
                return (0, 0)
            if tag == FINAL_TAG:
                return (2, 0)
            return (1, int(tag.split("-")[1]))

        return sorted(tags, key=order)


#: Written last by transformers' Trainer into a checkpoint folder: without it the save was cut.
CHECKPOINT_COMPLETE_MARKER = "trainer_state.json"


def saved_checkpoints(run: RunDir) -> list[tuple[int, Path]]:
    """(step, folder) of every complete checkpoint, by step."""
    if not run.checkpoints_dir.is_dir():
        return []
    found = []
    for folder in run.checkpoints_dir.glob("checkpoint-*"):
        step = folder.name.split("-", 1)[1]
        if folder.is_dir() and step.isdigit() and (folder / CHECKPOINT_COMPLETE_MARKER).exists():
            found.append((int(step), folder))
    return sorted(found)
