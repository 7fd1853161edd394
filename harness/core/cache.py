"""The evaluation cache: a backend's answers keyed by everything that determines them.

A key is (model weight fingerprint, backend, dtype, tokenizer identity, request kind,
request content — for a generation, every generation setting too): the same weights
loaded the same way and asked the same request give the same answer, so a re-run of an
unchanged model on an unchanged suite needs no forward pass and no model load. Anything
that could change an answer is in the key; lm-eval's cache (its issue #3881) shows what a
key without the dtype or the chat template returns. Stored in one SQLite file under
$MEDGATE_CACHE (default ~/.cache/medgate): sqlite3 is in the standard library and makes
concurrent writers from parallel runs safe without a lock file of our own.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.core.cache_dir import cache_root
from harness.core.models import _weight_files, fingerprint

SCHEMA = 2  # 2: request-level keys (model identity, request kind and content)


def request_key(identity: Sequence[Any], kind: str, content: Any) -> str:
    """The key of one request: the model's identity (fingerprint, backend, dtype,
    tokenizer), the kind of request and its JSON-able content."""
    parts = json.dumps([SCHEMA, list(identity), kind, content], ensure_ascii=False,
                       sort_keys=True)
    return hashlib.sha256(parts.encode("utf-8")).hexdigest()


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


def remembered(name: str, files: list[Path], compute: Callable[[], str],
               cache: ResultCache) -> str:
    """`compute()`, remembered across processes by the stat identity of the files it reads.

    Hashing a model's weights costs seconds, more than a fully cached evaluation, and a
    tokenizer's identity needs the tokenizer loaded; like make and git's index, a file
    whose path, size, mtime and inode are unchanged is taken to have unchanged bytes. Any
    change of these computes again. With no files to watch, nothing is remembered.
    """
    if not files:
        return compute()
    key = f"{name}:" + _stat_identity(files)
    found = cache.get_many([key])
    cache.hits -= len(found)  # bookkeeping, not an evaluation result
    cache.misses -= 1 - len(found)
    if key in found:
        return found[key]
    value = compute()
    cache.put_many({key: value})
    return value


def remembered_fingerprint(spec: Any, adapter: Path | None, cache: ResultCache) -> str:
    """harness.core.models.fingerprint, remembered by the weight files' stat identity."""
    folder = Path(spec.source)
    if not folder.exists():
        return fingerprint(spec, adapter)
    files = _weight_files(folder, spec.gguf_file)
    if adapter is not None:
        files += sorted(Path(adapter).glob("adapter_*"))
    return remembered("fingerprint", files, lambda: fingerprint(spec, adapter), cache)
