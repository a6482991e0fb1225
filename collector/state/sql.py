"""Shared SQL of the state stores (SQLite and PostgreSQL speak nearly the same dialect).

Statements are written with `?` placeholders; a dialect converts them. Subclasses provide
the connection, the transaction boundaries and which driver errors are transient.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from collector.state.encoding import stored_json as _json
from collector.state.model import (
    DIGEST_SIZE,
    IncidentRow,
    LoadedState,
    PeriodRow,
    ProjectRow,
    ReviewRow,
    RevisionRow,
    RunRow,
    SeenRow,
    StateChanges,
    StatementRow,
    TopicPartitionKey,
    WindowRow,
)
from collector.state.schema import SCHEMA_VERSION, TABLES
from collector.state.store import Fence, FencedError


def split_digests(blob: bytes) -> list[bytes]:
    if len(blob) % DIGEST_SIZE:
        raise ValueError(f"seen digests: {len(blob)} bytes is not a multiple of {DIGEST_SIZE}")
    return [blob[i : i + DIGEST_SIZE] for i in range(0, len(blob), DIGEST_SIZE)]


class SqlStore(ABC):
    """A state store over a DB-API connection. One thread at a time (the pipeline's)."""

    placeholder = "?"
    lock_suffix = ""
    location = ""
    single_instance = False
    migration_lock = ""
    """A statement that serializes schema migrations of concurrently starting instances."""

    @abstractmethod
    def _transaction(self) -> Any:
        """A context manager: one transaction, rolled back on error, errors classified."""

    @abstractmethod
    def _cursor(self) -> Any: ...

    def _sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        cursor = self._cursor()
        cursor.execute(self._sql(statement), params)
        return cursor

    def _executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor().executemany(self._sql(statement), rows)

    def _in(self, values: Sequence[Any]) -> str:
        return ", ".join("?" for _ in values)

    # -- schema ----------------------------------------------------------------------

    def _migrate(self, ddl: dict[str, str]) -> None:
        with self._transaction():
            if self.migration_lock:
                self._execute(self.migration_lock)
            for statement in TABLES:
                self._execute(statement.format(**ddl))
            row = self._execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self._execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.location}: state schema version {row[0]} is newer than this"
                    f" collector understands ({SCHEMA_VERSION}); upgrade the collector"
                )
            elif int(row[0]) < SCHEMA_VERSION:
                self._upgrade(int(row[0]))

    def _upgrade(self, version: int) -> None:
        if version < 3:
            self._upgrade_seen(version)
        self._execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
        )

    def _upgrade_seen(self, version: int) -> None:
        if version == 1:
            # each digest of the old per-event table becomes a batch of one
            self._execute(
                "INSERT INTO seen_batches (partition, forget_after_s, digests)"
                " SELECT partition, forget_after_s, digest FROM seen"
            )
            self._execute("DROP TABLE seen")
        # digests stored so far are of (source, id): they count until the last expires
        until = self._execute("SELECT MAX(forget_after_s) FROM seen_batches").fetchone()[0]
        self._execute(
            "INSERT INTO meta (key, value) VALUES ('legacy_seen_until_s', ?)",
            (repr(float(until or 0.0)),),
        )

    # -- ownership -------------------------------------------------------------------

    def claim(self, topic: str, partitions: list[int], owner: str) -> Fence:
        fence: Fence = {}
        with self._transaction():
            for partition in sorted(partitions):
                self._execute(
                    "INSERT INTO owners (topic, partition, owner, generation) VALUES (?, ?, ?, 1)"
                    " ON CONFLICT (topic, partition) DO UPDATE SET owner = excluded.owner,"
                    " generation = owners.generation + 1",
                    (topic, partition, owner),
                )
                row = self._execute(
                    "SELECT generation FROM owners WHERE topic = ? AND partition = ?",
                    (topic, partition),
                ).fetchone()
                fence[(topic, partition)] = int(row[0])
        return fence

    def _check_fence(self, fence: Fence) -> None:
        lost = []
        for (topic, partition), generation in sorted(fence.items()):
            row = self._execute(
                "SELECT generation FROM owners WHERE topic = ? AND partition = ?"
                + self.lock_suffix,
                (topic, partition),
            ).fetchone()
            if row is None or int(row[0]) != generation:
                lost.append((topic, partition))
        if lost:
            raise FencedError(lost)

    # -- reading ---------------------------------------------------------------------

    def load(self, topic: str, partitions: list[int]) -> LoadedState:
        if not partitions:
            return LoadedState()
        marks = self._in(partitions)
        with self._transaction():
            projects = self._projects(f"WHERE partition IN ({marks})", partitions)
            periods = self._periods(
                f"WHERE project IN (SELECT project FROM projects WHERE partition IN ({marks}))",
                partitions,
            )
            seen = self._seen(f"WHERE partition IN ({marks})", partitions)
            health = self._health(f"WHERE partition IN ({marks})", partitions)
            offsets = self._offsets(
                f"WHERE topic = ? AND partition IN ({marks})", [topic, *partitions]
            )
            windows = self._windows(
                f"WHERE project IN (SELECT project FROM projects WHERE partition IN ({marks}))",
                partitions,
            )
            incidents = self._incidents(
                f"WHERE project IN (SELECT project FROM projects WHERE partition IN ({marks}))",
                partitions,
            )
            legacy = self._legacy_seen_until()
            declared = self._declared()
            runs = self._runs(f"WHERE partition IN ({marks})", partitions)
            reviews = self._reviews(
                f"WHERE project IN (SELECT project FROM projects WHERE partition IN ({marks}))",
                partitions,
            )
            statements = self._statements(
                f"WHERE project IN (SELECT project FROM projects WHERE partition IN ({marks}))",
                partitions,
            )
            revisions = self._revisions()
        return LoadedState(
            projects,
            periods,
            seen,
            health,
            offsets,
            windows,
            legacy,
            incidents,
            declared,
            runs=runs,
            reviews=reviews,
            statements=statements,
            revisions=revisions,
        )

    def load_all(self, *, seen: bool = True) -> LoadedState:
        with self._transaction():
            return LoadedState(
                self._projects("", []),
                self._periods("", []),
                self._seen("", []) if seen else (),
                self._health("", []),
                self._offsets("", []),
                self._windows("", []),
                self._legacy_seen_until(),
                self._incidents("", []),
                self._declared(),
                runs=self._runs("", []),
                reviews=self._reviews("", []),
                statements=self._statements("", []),
                revisions=self._revisions(),
            )

    def load_period(self, project: str, key: str) -> PeriodRow | None:
        with self._transaction():
            found = self._periods("WHERE project = ? AND key = ?", [project, key])
        return found[0] if found else None

    def _projects(self, where: str, params: Sequence[Any]) -> tuple[ProjectRow, ...]:
        rows = self._execute(f"SELECT project, partition, counters FROM projects {where}", params)
        return tuple(ProjectRow(p, part, json.loads(c)) for p, part, c in rows.fetchall())

    def _periods(self, where: str, params: Sequence[Any]) -> tuple[PeriodRow, ...]:
        rows = self._execute(
            f"SELECT project, key, kind, start_s, end_s, totals FROM periods {where}", params
        )
        return tuple(
            PeriodRow(p, key, kind, float(start), float(end), json.loads(totals))
            for p, key, kind, start, end, totals in rows.fetchall()
        )

    def _seen(self, where: str, params: Sequence[Any]) -> tuple[SeenRow, ...]:
        rows = self._execute(
            f"SELECT digests, partition, forget_after_s FROM seen_batches {where}", params
        )
        return tuple(
            SeenRow(digest, int(partition), float(forget_after_s))
            for blob, partition, forget_after_s in rows.fetchall()
            for digest in split_digests(bytes(blob))
        )

    def _windows(self, where: str, params: Sequence[Any]) -> tuple[WindowRow, ...]:
        rows = self._execute(
            "SELECT project, label, service, start_us, end_us, downtime_us, forget_after_s"
            f" FROM windows {where} ORDER BY project, start_us, end_us, service",
            params,
        )
        return tuple(
            WindowRow(p, label, service, int(start), int(end), int(down), float(forget))
            for p, label, service, start, end, down, forget in rows.fetchall()
        )

    def _incidents(self, where: str, params: Sequence[Any]) -> tuple[IncidentRow, ...]:
        rows = self._execute(
            f"SELECT project, service, incident, data, forget_after_s FROM incidents {where}",
            params,
        )
        return tuple(
            IncidentRow(p, service, incident, json.loads(data), float(forget))
            for p, service, incident, data, forget in rows.fetchall()
        )

    def _runs(self, where: str, params: Sequence[Any]) -> tuple[RunRow, ...]:
        rows = self._execute(
            f"SELECT partition, forget_after_s, runs FROM run_batches {where}", params
        )
        return tuple(RunRow(int(p), float(f), json.loads(runs)) for p, f, runs in rows.fetchall())

    def _reviews(self, where: str, params: Sequence[Any]) -> tuple[ReviewRow, ...]:
        rows = self._execute(
            f"SELECT project, subject, data, forget_after_s FROM reviews {where}", params
        )
        return tuple(
            ReviewRow(p, subject, json.loads(data), float(forget))
            for p, subject, data, forget in rows.fetchall()
        )

    def _statements(self, where: str, params: Sequence[Any]) -> tuple[StatementRow, ...]:
        rows = self._execute(f"SELECT project, statement, data FROM statements {where}", params)
        return tuple(StatementRow(p, key, json.loads(data)) for p, key, data in rows.fetchall())

    def _revisions(self) -> tuple[RevisionRow, ...]:
        rows = self._execute(
            "SELECT project, revision, digest, effective_s, document, changes FROM revisions"
            " ORDER BY project, revision"
        ).fetchall()
        return tuple(
            RevisionRow(p, int(n), d, float(t), json.loads(doc), json.loads(changed))
            for p, n, d, t, doc, changed in rows
        )

    def _declared(self) -> dict[str, float]:
        rows = self._execute("SELECT project, since_s FROM declared").fetchall()
        return {project: float(since_s) for project, since_s in rows}

    def _legacy_seen_until(self) -> float:
        row = self._execute("SELECT value FROM meta WHERE key = 'legacy_seen_until_s'").fetchone()
        return 0.0 if row is None else float(row[0])

    def _health(self, where: str, params: Sequence[Any]) -> dict[int, dict[str, Any]]:
        rows = self._execute(f"SELECT partition, data FROM health {where}", params)
        return {int(part): json.loads(data) for part, data in rows.fetchall()}

    def _offsets(self, where: str, params: Sequence[Any]) -> dict[TopicPartitionKey, int]:
        rows = self._execute(f"SELECT topic, partition, next_offset FROM offsets {where}", params)
        return {(t, int(p)): int(o) for t, p, o in rows.fetchall()}

    # -- writing ---------------------------------------------------------------------

    def commit(
        self, changes: StateChanges, offsets: dict[TopicPartitionKey, int], fence: Fence
    ) -> None:
        # rows (their JSON included) are built before the transaction: a writer holds the
        # database's write lock (SQLite's: the whole file) only while it writes them
        writes = _writes(changes, offsets)
        with self._transaction():
            self._check_fence(fence)
            for statement, rows in writes:
                self._executemany(statement, rows)
            if changes.forget_seen_before_s is not None:
                for table in ("seen_batches", "windows", "incidents", "run_batches", "reviews"):
                    self._execute(
                        f"DELETE FROM {table} WHERE forget_after_s <= ?",
                        (changes.forget_seen_before_s,),
                    )


def _writes(
    changes: StateChanges, offsets: dict[TopicPartitionKey, int]
) -> list[tuple[str, Sequence[Sequence[Any]]]]:
    """A batch's upserts and inserts: (statement, rows)."""
    return [
        (
            "INSERT INTO projects (project, partition, counters) VALUES (?, ?, ?)"
            " ON CONFLICT (project) DO UPDATE SET partition = excluded.partition,"
            " counters = excluded.counters",
            [(r.project, r.partition, _json(r.counters)) for r in changes.projects],
        ),
        (
            "INSERT INTO periods (project, key, kind, start_s, end_s, totals)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project, key) DO UPDATE SET"
            " totals = excluded.totals",
            [
                (r.project, r.key, r.kind, r.start_s, r.end_s, _json(r.totals))
                for r in changes.periods
            ],
        ),
        (
            "INSERT INTO seen_batches (partition, forget_after_s, digests) VALUES (?, ?, ?)",
            [(b.partition, b.forget_after_s, b"".join(b.digests)) for b in changes.seen],
        ),
        (
            "INSERT INTO windows (project, label, service, start_us, end_us, downtime_us,"
            " forget_after_s) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project, service,"
            " start_us, end_us) DO UPDATE SET downtime_us = excluded.downtime_us",
            changes.windows,
        ),
        (
            "INSERT INTO incidents (project, service, incident, data, forget_after_s)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (project, service, incident) DO UPDATE SET"
            " data = excluded.data, forget_after_s = excluded.forget_after_s",
            [
                (r.project, r.service, r.incident, _json(r.data), r.forget_after_s)
                for r in changes.incidents
            ],
        ),
        (
            "INSERT INTO run_batches (partition, forget_after_s, runs) VALUES (?, ?, ?)",
            [(r.partition, r.forget_after_s, _json(r.runs)) for r in changes.runs],
        ),
        (
            "INSERT INTO reviews (project, subject, data, forget_after_s) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (project, subject) DO UPDATE SET data = excluded.data,"
            " forget_after_s = excluded.forget_after_s",
            [(r.project, r.subject, _json(r.data), r.forget_after_s) for r in changes.reviews],
        ),
        (
            "INSERT INTO statements (project, statement, data) VALUES (?, ?, ?)"
            " ON CONFLICT (project, statement) DO UPDATE SET data = excluded.data",
            [(r.project, r.statement, _json(r.data)) for r in changes.statements],
        ),
        (
            "INSERT INTO declared (project, since_s) VALUES (?, ?)"
            " ON CONFLICT (project) DO NOTHING",
            changes.declared,
        ),
        (
            "INSERT INTO revisions (project, revision, digest, effective_s, document, changes)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project, revision) DO NOTHING",
            [
                (
                    r.project,
                    r.revision,
                    r.digest,
                    r.effective_s,
                    _json(r.document),
                    _json(r.changes),
                )
                for r in changes.revisions
            ],
        ),
        (
            "INSERT INTO health (partition, data) VALUES (?, ?)"
            " ON CONFLICT (partition) DO UPDATE SET data = excluded.data",
            [(partition, _json(data)) for partition, data in changes.health],
        ),
        (
            "INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?)"
            " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
            [(topic, partition, offset) for (topic, partition), offset in offsets.items()],
        ),
    ]
