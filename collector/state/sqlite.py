"""SQLite state store: the default for a single collector (docs/REFERENCE.md).

WAL journal, so `outcomes report` can read while a collector writes; `synchronous=
NORMAL`, which survives a killed process (not a power cut) with every committed batch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from collector.state.sql import SqlStore
from collector.state.store import TransientStoreError


class SqliteStore(SqlStore):
    single_instance = True

    def __init__(self, path: str | Path, busy_timeout_s: float = 5.0) -> None:
        self.location = str(path)
        if self.location != ":memory:":
            Path(self.location).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.location, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate({"real": "REAL", "blob": "BLOB"})

    def _cursor(self) -> sqlite3.Cursor:
        return self._db.cursor()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise TransientStoreError(f"{self.location}: {error}") from error
        try:
            yield
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            self._db.execute("ROLLBACK")
            raise TransientStoreError(f"{self.location}: {error}") from error
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()
