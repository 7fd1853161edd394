"""A real PostgreSQL server for the tests: Debian's binaries, a throwaway cluster.

initdb into a fresh folder, pg_ctl start on a free port with its unix socket in that
folder (no TCP listener), trust authentication for the one local user. PostgreSQL refuses
to run as root, so as root the cluster belongs to the `postgres` (else `nobody`) account.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def find_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no 'postgres' or 'nobody' account to run PostgreSQL")


@dataclass
class Server:
    url: str
    folder: Path


@contextmanager
def postgres_server() -> Iterator[Server]:
    bindir = find_bin()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL binaries (/usr/lib/postgresql/*/bin)")
    user = _as_user()
    folder = Path(tempfile.mkdtemp(prefix="medgate-pg-"))  # not under a root-only folder
    data, port = folder / "data", _free_port()

    def run(*argv: str) -> None:
        cmd = [str(a) for a in argv]
        if user:
            cmd = ["runuser", "-u", user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    if user:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    try:
        run(bindir / "initdb", "-D", data, "-U", "medgate", "--auth=trust", "-E", "UTF8")
        run(bindir / "pg_ctl", "-D", data, "-l", folder / "server.log", "-w", "start", "-o",
            f"-p {port} -k {folder} -c listen_addresses=''")
        try:
            yield Server(f"postgresql+psycopg2://medgate@/postgres?host={folder}&port={port}",
                         folder)
        finally:
            run(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
