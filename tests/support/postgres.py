"""A throwaway PostgreSQL cluster for one test session (or one benchmark run).

Debian's `postgresql` package provides the server binaries; `make test` and `.ci/run`
install it when it is missing. The cluster lives in a temporary directory, listens on a
free loopback port and on a socket in that directory, trusts local connections, and is
removed when it stops. Durability is switched off (`fsync=off`): the tests kill
collectors, never this server. PostgreSQL refuses to run as root, so under root the
server runs as the `postgres` system user the package creates.

`OUTCOMES_TEST_POSTGRES=postgresql://…/db` uses an existing server instead.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

from collector.embedded import free_port
from tests.support.service import Service

DATABASE = "test"
INSTALL_HINT = "apt-get install postgresql (make test installs it)"


class PostgresUnavailableError(RuntimeError):
    pass


def server_bindir() -> Path:
    """Directory holding initdb and pg_ctl: PATH first, then Debian's versioned layout."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(os.path.realpath(on_path)).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]),
    )
    if not versions:
        raise PostgresUnavailableError(f"PostgreSQL server binaries not found: {INSTALL_HINT}")
    return Path(versions[-1]).parent


def _as_owner(command: list[str]) -> list[str]:
    """Run as the `postgres` user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


class TemporaryPostgres(Service):
    """initdb + pg_ctl in a temporary directory; use as a context manager."""

    def __init__(self, startup_timeout_s: float = 30.0) -> None:
        self.port = free_port()
        self._startup_timeout_s = startup_timeout_s
        self._directory: Path | None = None
        self._bindir = server_bindir()

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def log_path(self) -> Path:
        assert self._directory is not None
        return self._directory / "server.log"

    def start(self) -> TemporaryPostgres:
        self._directory = Path(tempfile.mkdtemp(prefix="outcomes-pg-"))
        data = self._directory / "data"
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self._directory, owner.pw_uid, owner.pw_gid)
        self._run(
            [str(self._bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--no-sync"]
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port}"
            f" -c unix_socket_directories={self._directory}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        self._run(
            [str(self._bindir / "pg_ctl"), "-D", str(data), "-l", str(self.log_path),
             "-o", options, "-w", "-t", str(int(self._startup_timeout_s)), "start"]
        )  # fmt: skip
        self._create_database()
        return self

    def _create_database(self) -> None:
        deadline = time.monotonic() + self._startup_timeout_s
        while True:
            try:
                with psycopg.connect(self.admin_dsn, autocommit=True, connect_timeout=5) as db:
                    db.execute(f"CREATE DATABASE {DATABASE}")
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(
            _as_owner(command), capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            raise PostgresUnavailableError(
                f"{Path(command[0]).name} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )

    def stop(self) -> None:
        if self._directory is None:
            return
        data = self._directory / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_owner([str(self._bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                           "-w", "stop"]),
                capture_output=True,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        shutil.rmtree(self._directory, ignore_errors=True)
        self._directory = None


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """DSN of a database for tests or benchmarks: `OUTCOMES_TEST_POSTGRES` when set, a
    container with `OUTCOMES_TEST_CONTAINERS=1`, else a temporary cluster; it lives as long
    as the `with` block."""
    existing = os.environ.get("OUTCOMES_TEST_POSTGRES")
    if existing:
        yield existing
        return
    if os.environ.get("OUTCOMES_TEST_CONTAINERS") == "1":
        from tests.support.containers import container_postgres

        with container_postgres() as dsn:
            yield dsn
        return
    with TemporaryPostgres() as server:
        yield server.dsn()


@contextlib.contextmanager
def fresh_schema(database: str, prefix: str = "t") -> Iterator[str]:
    """A DSN whose search_path is a new, empty schema of `database` (dropped after)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{database}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(database, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def port_of(dsn: str) -> int:
    port = urllib.parse.urlsplit(dsn).port
    assert port is not None, dsn
    return port
