"""SQLite state store: the default for a single collector (DESIGN §2, §7).

WAL journal, so `outcomes report` can read while a collector writes; `synchronous=
NORMAL`, which survives a killed process (not a power cut) with every committed batch.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Final

from collector.state.model import (
    LoadedState,
    PeriodRow,
    ProjectRow,
    StateChanges,
    TopicPartitionKey,
)
from collector.state.store import TransientStoreError

SCHEMA_VERSION: Final = 1
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    project TEXT PRIMARY KEY, partition INTEGER NOT NULL, counters TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS periods (
    project TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL,
    start_s REAL NOT NULL, end_s REAL NOT NULL, totals TEXT NOT NULL,
    PRIMARY KEY (project, key));
CREATE TABLE IF NOT EXISTS seen (
    digest BLOB PRIMARY KEY, forget_after_s REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_forget ON seen (forget_after_s);
CREATE TABLE IF NOT EXISTS offsets (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition));
CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
"""


class SqliteStore:
    """One connection, used by one thread at a time (the pipeline's)."""

    def __init__(self, path: str | Path, busy_timeout_s: float = 5.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        elif int(row[0]) > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path}: state schema version {row[0]} is newer than this collector"
                f" understands ({SCHEMA_VERSION}); upgrade the collector"
            )

    def load(self) -> LoadedState:
        db = self._db
        projects = tuple(
            ProjectRow(name, partition, json.loads(counters))
            for name, partition, counters in db.execute(
                "SELECT project, partition, counters FROM projects ORDER BY project"
            )
        )
        periods = tuple(
            PeriodRow(project, key, kind, start_s, end_s, json.loads(totals))
            for project, key, kind, start_s, end_s, totals in db.execute(
                "SELECT project, key, kind, start_s, end_s, totals FROM periods"
            )
        )
        seen = tuple(db.execute("SELECT digest, forget_after_s FROM seen"))
        health_row = db.execute("SELECT data FROM health WHERE id = 1").fetchone()
        offsets = {
            (topic, partition): next_offset
            for topic, partition, next_offset in db.execute(
                "SELECT topic, partition, next_offset FROM offsets"
            )
        }
        health = json.loads(health_row[0]) if health_row else {}
        return LoadedState(projects, periods, seen, health, offsets)

    def commit(self, changes: StateChanges, offsets: dict[TopicPartitionKey, int]) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise TransientStoreError(f"{self.path}: {error}") from error
        try:
            self._write(changes, offsets)
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            self._db.execute("ROLLBACK")
            raise TransientStoreError(f"{self.path}: {error}") from error
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _write(self, changes: StateChanges, offsets: dict[TopicPartitionKey, int]) -> None:
        db = self._db
        db.executemany(
            "INSERT INTO projects (project, partition, counters) VALUES (?, ?, ?)"
            " ON CONFLICT (project) DO UPDATE SET partition = excluded.partition,"
            " counters = excluded.counters",
            [(r.project, r.partition, json.dumps(r.counters)) for r in changes.projects],
        )
        db.executemany(
            "INSERT INTO periods (project, key, kind, start_s, end_s, totals)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project, key) DO UPDATE SET"
            " totals = excluded.totals",
            [
                (r.project, r.key, r.kind, r.start_s, r.end_s, json.dumps(r.totals))
                for r in changes.periods
            ],
        )
        db.executemany(
            "INSERT OR IGNORE INTO seen (digest, forget_after_s) VALUES (?, ?)", changes.seen
        )
        if changes.forget_seen_before_s is not None:
            db.execute(
                "DELETE FROM seen WHERE forget_after_s <= ?", (changes.forget_seen_before_s,)
            )
        if changes.health is not None:
            db.execute(
                "INSERT INTO health (id, data) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                (json.dumps(changes.health),),
            )
        db.executemany(
            "INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?)"
            " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
            [(topic, partition, offset) for (topic, partition), offset in offsets.items()],
        )

    def close(self) -> None:
        self._db.close()
