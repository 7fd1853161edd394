"""TrainerCallbacks: the history file, rich progress, and the checkpoint-saved hook.

The hook is how the gated pipeline judges every checkpoint while training runs: it is
called right after a checkpoint folder is complete, and returning True stops training.
History and log lines are written by the main process only, so several processes
(DDP on CPU or GPUs) produce one run directory, not several half ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from transformers import TrainerCallback

from harness.core.atomic import write_json
from harness.core.console import err

if TYPE_CHECKING:  # trainer imports this module inside train(); at run time no cycle
    from finetune.trainer import CheckpointHook


class HistoryCallback(TrainerCallback):
    """Every logged step (loss, learning rate, tokens/s, eval loss) to history.json and train.log."""

    def __init__(self, history_path: Path, log_path: Path, history: list[dict] | None = None) -> None:
        self.history_path = history_path
        self.log_path = log_path
        self.history: list[dict[str, Any]] = list(history or [])
        self._last_time: float | None = None
        self._last_tokens = 0
        self.last_tokens_per_s: float | None = None

    def log_line(self, text: str) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {text}\n")

    def on_train_begin(self, args, state, control, **kwargs):
        self._last_time = time.perf_counter()
        self._last_tokens = state.num_input_tokens_seen or 0

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        entry: dict[str, Any] = {"step": state.global_step, "epoch": state.epoch}
        if "loss" in logs:
            now = time.perf_counter()
            tokens = state.num_input_tokens_seen or 0
            if self._last_time is not None and now > self._last_time:
                self.last_tokens_per_s = (tokens - self._last_tokens) / (now - self._last_time)
            self._last_time, self._last_tokens = now, tokens
            entry.update({"loss": logs["loss"], "learning_rate": logs.get("learning_rate"),
                          "grad_norm": logs.get("grad_norm"), "tokens_per_s": self.last_tokens_per_s,
                          "tokens_seen": tokens})
        if "eval_loss" in logs:
            entry["eval_loss"] = logs["eval_loss"]
        entry.update({k: v for k, v in logs.items() if k.startswith("recipe.")})  # finetune.recipes
        final = "train_loss" in logs and "loss" not in logs  # the end-of-training summary
        if final:
            entry.update({"train_runtime_s": logs.get("train_runtime"), "train_loss_mean": logs["train_loss"]})
        if len(entry) == 2:
            return
        # one entry per step: an evaluation at a logged step joins that step's entry
        if self.history and self.history[-1]["step"] == entry["step"] and not final:
            self.history[-1].update(entry)
        else:
            self.history.append(entry)
        write_json(self.history_path, self.history)
        self.log_line(" ".join(f"{k}={_fmt(v)}" for k, v in entry.items() if v is not None))


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


class CheckpointHookCallback(TrainerCallback):
    """Calls `hook(step, checkpoint_dir)` after each save; True or a reason stops training."""

    def __init__(self, hook: CheckpointHook | None, checkpoints_dir: Path,
                 log: Callable[[str], None] | None = None) -> None:
        self.hook = hook
        self.checkpoints_dir = checkpoints_dir
        self.saved: list[tuple[int, Path]] = []
        self.stopped_by_hook = False
        self.stop_reason: str | None = None
        self.log = log

    def on_save(self, args, state, control, **kwargs):
        folder = self.checkpoints_dir / f"checkpoint-{state.global_step}"
        self.saved.append((state.global_step, folder))
        if self.log and state.is_world_process_zero:
            self.log(f"checkpoint saved step={state.global_step} path={folder}")
        answer = (self.hook(state.global_step, folder)
                  if self.hook is not None and state.is_world_process_zero else None)
        if answer is True or (isinstance(answer, str) and answer):
            self.stopped_by_hook = True
            self.stop_reason = answer if isinstance(answer, str) else "checkpoint hook"
            control.should_training_stop = True
            if self.log:
                self.log(f"stop asked at step={state.global_step}: {self.stop_reason}")
        if _broadcast_stop(self.stopped_by_hook):
            self.stopped_by_hook = True
            control.should_training_stop = True
        return control


def _broadcast_stop(stop: bool) -> bool:
    """In multi-process training every rank must agree to stop; rank 0 decides."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        box = [stop]
        dist.broadcast_object_list(box, src=0)
        return bool(box[0])
    return stop


class RichProgressCallback(TrainerCallback):
    """Step, loss, tokens/s and ETA on stderr (the tqdm bars are switched off)."""

    def __init__(self, history: HistoryCallback) -> None:
        self.history = history
        self.progress = None
        self.task = None
        self.loss: float | None = None
        self.eval_loss: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        self.progress = Progress(TextColumn("[bold]train[/]"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[stats]}"), TimeElapsedColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(), console=err, transient=False)
        self.progress.start()
        self.task = self.progress.add_task("train", total=state.max_steps, completed=state.global_step,
                                           stats="")

    def _stats(self) -> str:
        parts = []
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4f}")
        if self.eval_loss is not None:
            parts.append(f"eval {self.eval_loss:.4f}")
        if self.history.last_tokens_per_s:
            parts.append(f"{self.history.last_tokens_per_s:,.0f} tok/s")
        return " ".join(parts)

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, stats=self._stats())

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.progress is None or not logs:
            return
        if "loss" in logs:
            self.loss = logs["loss"]
        if "eval_loss" in logs:
            self.eval_loss = logs["eval_loss"]
        self.progress.update(self.task, completed=state.global_step, stats=self._stats())

    def on_train_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, stats=self._stats())
            self.progress.stop()
            self.progress = None
