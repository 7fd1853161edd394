"""The evaluation cache: per-item scoring results keyed by what determines them.

A key is (model fingerprint, item hash, prompt format, backend): the same bytes of
weights asked the same prompt with the same choices in the same way give the same
answer, so a re-run of an unchanged model on an unchanged suite needs no forward pass
and no model load. Stored in one SQLite file under $MEDGATE_CACHE (default
~/.cache/medgate): sqlite3 is in the standard library and makes concurrent writers
from parallel runs safe without a lock file of our own.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = 1


def cache_root() -> Path:
    return Path(os.environ.get("MEDGATE_CACHE") or Path.home() / ".cache" / "medgate")


def cache_key(fingerprint: str, item_hash: str, prompt_format: str, backend: str) -> str:
    parts = json.dumps([SCHEMA, fingerprint, item_hash, prompt_format, backend])
    return hashlib.sha256(parts.encode("utf-8")).hexdigest()


def item_hash(prompt: str, choices: list[str] | tuple[str, ...] = ()) -> str:
    """sha256 of the prompt and the choices it is scored against."""
    digest = hashlib.sha256(prompt.encode("utf-8"))
    for choice in choices:
        digest.update(b"\x1f" + choice.encode("utf-8"))
    return digest.hexdigest()


class ResultCache:
    """A key -> JSON value store; `hits` and `misses` say what a run took from it."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.path = Path(root or cache_root()) / "results.sqlite"
        self.hits = 0
        self.misses = 0
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT)")
            self._local.conn = conn
        return conn

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        conn = self._conn()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, value in conn.execute(
                    f"SELECT key, value FROM results WHERE key IN ({marks})", chunk):
                found[key] = json.loads(value)
        self.hits += len(found)
        self.misses += len(set(keys) - set(found))
        return found

    def put_many(self, entries: dict[str, Any]) -> None:
        if not entries:
            return
        conn = self._conn()
        with conn:
            conn.executemany("INSERT OR REPLACE INTO results (key, value) VALUES (?, ?)",
                             [(k, json.dumps(v)) for k, v in entries.items()])


def _stat_identity(paths: list[Path]) -> str:
    rows = []
    for path in paths:
        stat = path.stat()
        rows.append([str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino])
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def remembered_fingerprint(spec: Any, adapter: Path | None, cache: ResultCache) -> str:
    """harness.core.models.fingerprint, remembered across processes by the files' stat identity.

    Hashing a model's weights costs seconds, more than a fully cached evaluation; like
    make and git's index, a file whose path, size, mtime and inode are unchanged is taken
    to have unchanged bytes. Any change of these re-hashes.
    """
    from harness.core.models import _weight_files, fingerprint

    folder = Path(spec.source)
    if not folder.exists():
        return fingerprint(spec, adapter)
    files = _weight_files(folder, spec.gguf_file)
    if adapter is not None:
        files += sorted(Path(adapter).glob("adapter_*"))
    if not files:
        return fingerprint(spec, adapter)
    key = "fingerprint:" + _stat_identity(files)
    found = cache.get_many([key])
    cache.hits -= len(found)  # bookkeeping, not an evaluation result
    cache.misses -= 1 - len(found)
    if key in found:
        return found[key]
    value = fingerprint(spec, adapter)
    cache.put_many({key: value})
    return value
