"""PostgreSQL state store (psycopg 3): shared by several collectors of one group.

Same contract as the SQLite store; ownership rows are locked (`FOR UPDATE`) while a
commit checks its fence, so a commit and a competing claim serialise. A lost connection
is a transient error: the next call reconnects.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from collector.state.sql import SqlStore
from collector.state.store import TransientStoreError


class PostgresStore(SqlStore):
    placeholder = "%s"
    lock_suffix = " FOR UPDATE"
    # held until the migrating transaction ends; SQLite's BEGIN IMMEDIATE does the same
    migration_lock = "SELECT pg_advisory_xact_lock(7468735)"

    def __init__(self, dsn: str, connect_timeout_s: int = 5) -> None:
        self.location = _redact(dsn)
        self._dsn = dsn
        self._timeout_s = connect_timeout_s
        self._conn: psycopg.Connection[Any] | None = None
        self._migrate({"real": "DOUBLE PRECISION", "blob": "BYTEA"})

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(
                    self._dsn, connect_timeout=self._timeout_s, autocommit=True
                )
            except psycopg.OperationalError as error:
                raise TransientStoreError(f"{self.location}: {error}".strip()) from error
        return self._conn

    def _cursor(self) -> Any:
        return self._connection().cursor()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        connection = self._connection()
        try:
            with connection.transaction():
                yield
        except (psycopg.OperationalError, psycopg.errors.SerializationFailure) as error:
            self._drop_broken(connection)
            raise TransientStoreError(f"{self.location}: {error}".strip()) from error

    def _drop_broken(self, connection: psycopg.Connection[Any]) -> None:
        if connection.broken or connection.closed:
            self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def _redact(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "postgresql://…"
    info.pop("password", None)
    host, port, name = info.get("host", ""), info.get("port", ""), info.get("dbname", "")
    return f"postgresql://{info.get('user', '')}@{host}:{port}/{name}"
