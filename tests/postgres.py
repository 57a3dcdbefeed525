"""A throw-away PostgreSQL cluster for the test session, on loopback, in a temporary folder.

initdb refuses to run as root, so under root the cluster belongs to the ``postgres``
user (``runuser -u postgres --``) in a folder handed to that user. Durability is off
(fsync, synchronous_commit) unless asked for: the data dies with the session anyway. Each test that
asks for ``pg_url`` gets a schema of its own in the one database, dropped afterwards.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Cluster", "ClusterUnavailable", "find_bin", "throwaway_cluster"]

START_SECONDS = 60


class ClusterUnavailable(Exception):
    """PostgreSQL is not installed here, or would not start; the message says which."""


def find_bin() -> Path | None:
    """The folder with initdb and pg_ctl: on PATH, else Debian's newest version."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A running cluster: ``url(schema)`` connects as the superuser to that schema."""

    def __init__(self, folder: Path, port: int, as_user: list[str], bin_dir: Path) -> None:
        self.folder, self.port = folder, port
        self._as_user, self._bin = as_user, bin_dir

    def url(self, schema: str | None = None) -> str:
        base = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return f"{base}?options=-csearch_path%3D{schema}" if schema else base

    @contextmanager
    def schema(self) -> Iterator[str]:
        """A fresh, empty schema's URL, dropped (with everything in it) afterwards."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {name}")
        try:
            yield self.url(name)
        finally:
            with psycopg.connect(self.url(), autocommit=True) as admin:
                # connections a failed test left open would hold locks on its tables
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
                )
                admin.execute(f"DROP SCHEMA {name} CASCADE")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self._as_user, *args], capture_output=True, text=True, timeout=START_SECONDS
        )

    def restart(self) -> None:
        """Restart the server (fast shutdown: every connection is closed)."""
        self.run(str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast",
                 "-l", str(self.folder / "server.log"), "-w", "restart")  # fmt: skip

    def stop(self) -> None:
        self.run(
            str(self._bin / "pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-m",
            "immediate",
            "-w",
            "stop",
        )


@contextmanager
def throwaway_cluster(*, durable: bool = False) -> Iterator[Cluster]:
    """Start a cluster, yield it, and stop and delete it however the session ends;
    ClusterUnavailable when PostgreSQL is missing or will not start. ``durable`` keeps
    PostgreSQL's own defaults (every commit flushed to disk), as benchmarks need."""
    bin_dir = find_bin()
    if bin_dir is None:
        raise ClusterUnavailable(
            "PostgreSQL is not installed (no initdb; apt-get install -y postgresql)"
        )
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="parley-pg-"))
    try:
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to postgres
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterUnavailable("running as root and there is no postgres user") from None
            os.chown(folder, owner.pw_uid, owner.pw_gid)
            as_user = ["runuser", "-u", "postgres", "--"]
        cluster = Cluster(folder, _free_port(), as_user, bin_dir)
        data = folder / "data"
        made = cluster.run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-N",
        )
        if made.returncode != 0:
            raise ClusterUnavailable(f"initdb failed: {made.stderr.strip()[-300:]}")
        options = f"-p {cluster.port} -k {folder} -c listen_addresses=127.0.0.1"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        started = cluster.run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "server.log"),
            "-w",
            "-t",
            str(START_SECONDS),
            "-o",
            options,
            "start",
        )
        if started.returncode != 0:
            log = (folder / "server.log").read_text(errors="replace")[-300:]
            raise ClusterUnavailable(f"PostgreSQL would not start: {log.strip()}")
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
