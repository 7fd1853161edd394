"""Progress people can read: one rich bar per suite (requests answered, rate, time left).

Bars draw only on a terminal. Where stderr is not one (CI logs, a pipe), nothing is
redrawn: each suite ends with one line saying how many requests it answered, in how long
and at what rate, so a log stays short and still says where the time went.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from typing_extensions import Self

# Set while the terminal is recorded (rich's record=True, bench/record_progress.py): a
# recording keeps every redraw (it has no cursor to move back), so each bar is then drawn
# once, in its final state.
RECORDING = False


class RateColumn(ProgressColumn):
    """Requests per second of the task so far."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:.1f} req/s", style="progress.data.speed")


class SuiteProgress:
    """A bar for one suite's requests, fed by ModelHandle.progress(done, total) calls.

    A suite may call the model several times (a sequential evaluation's blocks, a
    perturbation suite's variants): each call's counts are added to the ones before, so
    the bar keeps growing and its total is what is known so far.
    """

    def __init__(self, console: Console, description: str) -> None:
        self.console = console
        self.description = description
        self.live = console.is_terminal
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), RateColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, transient=False, disable=not self.live or RECORDING)
        self._task = None
        self._offset_done = 0
        self._offset_total = 0
        self._last = (0, 0)
        self.requests = 0
        self._start = 0.0

    def __enter__(self) -> Self:
        self._start = time.perf_counter()
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=None)
        return self

    def update(self, done: int, total: int) -> None:
        """One model call's progress: `done` of its `total` requests answered."""
        if done < self._last[0] or total != self._last[1]:  # a new call began
            self._offset_done += self._last[0]
            self._offset_total += self._last[1]
        self._last = (done, total)
        self.requests = self._offset_done + done
        self._progress.update(self._task, completed=self.requests,
                              total=self._offset_total + total)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()
        if RECORDING and self.live:
            self.console.print(self._progress.get_renderable())
        if not self.live and kind is None:
            seconds = time.perf_counter() - self._start
            rate = f", {self.requests / seconds:.1f} req/s" if seconds > 0 and self.requests \
                else ""
            self.console.print(f"  {self.description}: {self.requests} requests answered in "
                               f"{seconds:.1f} s{rate}", highlight=False)
