"""One process per run directory: a second `medgate` on the same run refuses, clearly.

Two writers on one run directory interleave records, overwrite each other's checkpoints
and leave a gate.json that matches neither; the second must stop before it writes.

Why `fcntl.flock` on `.medgate.lock` and not the `filelock` package: the refusal must name
the process that holds the run (pid, host, since when), so the lock file carries that
record and is read by whoever is refused; filelock hides its file and truncates it. A flock
belongs to the open file, and the kernel drops it when its holder dies, even by SIGKILL,
so a lock file left behind by a dead process is simply taken over by the next run (the
takeover is logged with the dead holder's record); no pid guessing, no stale-lock timeout.
POSIX only (Linux, macOS), like the rest of the training stack; on a network filesystem
without flock support taking the lock fails, and the run refuses rather than run unlocked.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from harness.core.console import err
from harness.core.errors import BadInputError, InternalError

if TYPE_CHECKING:
    from typing_extensions import Self

LOCK_NAME = ".medgate.lock"

# Re-entrant within one process: a command that calls another locking helper on the
# same run must not lock itself out (a second flock on a new open file would conflict).
_held: dict[Path, tuple[int, int]] = {}  # resolved run dir -> (fd, depth)
_guard = threading.Lock()


class RunLockedError(BadInputError):
    """Another live process holds the run directory."""

    def __init__(self, run_dir: Path, holder: dict[str, Any] | None) -> None:
        self.holder = holder or {}
        who = (f"process {self.holder.get('pid', '?')} on {self.holder.get('host', '?')}"
               f" (since {self.holder.get('since', '?')}, command: {self.holder.get('command', '?')})"
               if self.holder else "another process (its record could not be read)")
        super().__init__(
            f"run directory is in use by {who}; wait for it to finish, or use another "
            "--run-dir. Two processes writing one run would corrupt its records.",
            where=str(run_dir))


def _read_holder(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        data = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _command() -> str:
    """Which program and sub-command hold the lock; never the options (they may hold secrets)."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    sub = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
    return f"{program} {sub}".strip() if sub.replace("-", "").isalnum() else program


class RunLock:
    """Exclusive lock on a run directory, as a context manager.

    `with RunLock(run_dir): ...` raises `RunLockedError` (exit 2, naming the holder's pid
    and host) when another live process holds it, and takes over a lock left by a process
    that died. `timeout` (seconds) waits for the holder instead of refusing at once.
    """

    def __init__(self, run_dir: str | Path, *, timeout: float = 0.0, poll: float = 0.2) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self.timeout = timeout
        self.poll = poll
        self.previous: dict[str, Any] | None = None  # the dead holder's record, if taken over
        self._key: Path | None = None

    def acquire(self) -> Self:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        key = self.run_dir.resolve()
        with _guard:
            if key in _held:
                fd, depth = _held[key]
                _held[key] = (fd, depth + 1)
                self._key = key
                return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise RunLockedError(self.run_dir, _read_holder(self.path)) from None
                    time.sleep(self.poll)
                except OSError as exc:
                    raise InternalError(f"{self.path}: cannot lock the run directory on this "
                                        f"filesystem ({exc.strerror}); refusing to run "
                                        "unlocked") from exc
            self.previous = _read_holder(self.path)
            record = {"pid": os.getpid(), "host": socket.gethostname(),
                      "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      "command": _command()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8"), 0)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        if self.previous:
            err.print(f"[yellow]took over the lock of {self.run_dir}[/] from process "
                      f"{self.previous.get('pid', '?')} on {self.previous.get('host', '?')}, "
                      "which ended without releasing it", highlight=False)
        with _guard:
            _held[key] = (fd, 1)
        self._key = key
        return self

    def release(self) -> None:
        key = self._key
        if key is None:
            return
        self._key = None
        with _guard:
            fd, depth = _held[key]
            if depth > 1:
                _held[key] = (fd, depth - 1)
                return
            del _held[key]
        try:
            os.ftruncate(fd, 0)  # an empty file: released cleanly, nothing to take over
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def locked_if_exists(run_dir: str | Path) -> RunLock | contextlib.nullcontext:
    """RunLock on an existing run directory; a missing one is left for the command to
    report in its own words (taking the lock would create it)."""
    return RunLock(run_dir) if Path(run_dir).is_dir() else contextlib.nullcontext()


def lock_holder(run_dir: str | Path) -> dict[str, Any] | None:
    """Who holds the run directory now (their record), or None when nobody does."""
    path = Path(run_dir) / LOCK_NAME
    if not path.exists():
        return None
    if Path(run_dir).resolve() in _held:
        return _read_holder(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(path) or {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
