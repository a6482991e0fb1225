"""SQLite state store: the default for a single collector (docs/REFERENCE.md).

WAL journal, so `outcomes report` can read while a collector writes; `synchronous=
NORMAL`, which survives a killed process (not a power cut) with every committed batch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from collector.state.sql import SqlStore
from collector.state.store import TransientStoreError, UnusableStoreError

HEADER = b"SQLite format 3\x00"
ADVICE = "nothing was written to it: move it away, or give --state another path"


def check_state_file(path: Path) -> None:
    """Refuse (UnusableStoreError) a file that is not a SQLite database, is corrupt, or is
    another program's database — read only, before anything would write to it."""
    if not path.is_file() or path.stat().st_size == 0:
        return  # a new state file
    with path.open("rb") as file:
        start = file.read(len(HEADER))
    if start != HEADER:
        raise UnusableStoreError(
            f"{path}: not a SQLite database (it starts {start[:8]!r}); {ADVICE}"
        )
    try:
        with closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        ) as db:
            tables = {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except sqlite3.DatabaseError as error:
        raise UnusableStoreError(
            f"{path}: a corrupt SQLite database ({error}); {ADVICE}"
        ) from error
    if tables and "meta" not in tables:
        names = ", ".join(sorted(tables)[:5])
        raise UnusableStoreError(
            f"{path}: another program's SQLite database (tables {names}), not collector"
            f" state; {ADVICE}"
        )


class SqliteStore(SqlStore):
    single_instance = True

    def __init__(self, path: str | Path, busy_timeout_s: float = 5.0) -> None:
        self.location = str(path)
        if self.location != ":memory:":
            Path(self.location).parent.mkdir(parents=True, exist_ok=True)
            check_state_file(Path(self.location))
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
            self._rollback()
            raise TransientStoreError(f"{self.location}: {error}") from error
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """Roll the transaction back, unless SQLite did already: it does on a full disk
        (SQLITE_FULL), an I/O error or out of memory, and ROLLBACK then fails."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def close(self) -> None:
        self._db.close()
