from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from collector.state.memory import MemoryStore
from collector.state.model import (
    LoadedState,
    PeriodRow,
    ProjectRow,
    ReviewRow,
    RevisionRow,
    RunRow,
    SeenBatch,
    SeenRow,
    StateChanges,
    StatementRow,
    WindowRow,
    seen_rows,
)
from collector.state.postgres import PostgresStore
from collector.state.sqlite import SqliteStore
from collector.state.store import FencedError, StateStore, TransientStoreError

CHANGES = StateChanges(
    projects=(ProjectRow("alpha", 2, {"runs": [["x", "succeeded", 3]]}),),
    periods=(PeriodRow("alpha", "2026-11", "month", 1.0, 2.0, {"runs": {"succeeded": 3}}),),
    seen=(SeenBatch(2, 100.0, [b"\x01" * 16]), SeenBatch(2, 200.0, [b"\x02" * 16])),
    health=((2, {"events": [["outcomes.run.finished", "accepted", 3]]}),),
)


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """The same contract, on SQLite, on the local PostgreSQL and in memory."""
    made: StateStore
    if request.param == "sqlite":
        made = SqliteStore(tmp_path / "state.db")
    elif request.param == "memory":
        made = MemoryStore()
    else:
        made = PostgresStore(request.getfixturevalue("postgres_dsn"))
    yield made
    made.close()


def test_commit_then_load_round_trips(store: StateStore) -> None:
    store.commit(CHANGES, {("events", 2): 42, ("events", 1): 7}, {})
    loaded = store.load("events", [2])
    assert loaded.projects == CHANGES.projects
    assert loaded.periods == CHANGES.periods
    assert sorted(loaded.seen, key=lambda r: r.digest) == list(seen_rows(CHANGES.seen))
    assert loaded.health == dict(CHANGES.health)
    assert loaded.offsets == {("events", 2): 42}
    other = store.load("events", [1])
    assert (other.projects, other.seen, other.offsets) == ((), (), {("events", 1): 7})


def test_upserts_replace_rows_and_forget_prunes_seen(store: StateStore) -> None:
    store.commit(CHANGES, {("events", 2): 1}, {})
    newer = ProjectRow("alpha", 2, {"runs": []})
    store.commit(
        StateChanges(projects=(newer,), forget_seen_before_s=150.0), {("events", 2): 9}, {}
    )
    loaded = store.load("events", [2])
    assert loaded.projects == (newer,)
    assert loaded.seen == (SeenRow(b"\x02" * 16, 2, 200.0),)
    assert loaded.offsets == {("events", 2): 9}


def test_a_failed_commit_writes_nothing(store: StateStore) -> None:
    bad = StateChanges(projects=(ProjectRow("alpha", 0, {"x": object()}),))
    with pytest.raises(TypeError):
        store.commit(bad, {("events", 0): 5}, {})
    assert store.load_all().offsets == {}
    assert store.load_all().projects == ()


def test_a_locked_database_is_a_transient_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path, busy_timeout_s=0.05)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(TransientStoreError, match="locked"):
            store.commit(CHANGES, {("events", 0): 1}, {})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.commit(CHANGES, {("events", 0): 1}, {})
    assert store.load_all().offsets == {("events", 0): 1}


def test_readers_see_committed_state_while_a_writer_works(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    store.commit(CHANGES, {("events", 0): 1}, {})
    seen: list[int] = []

    def read() -> None:
        seen.append(len(SqliteStore(path).load_all().projects))

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    assert seen == [1]


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="newer than this collector"):
        SqliteStore(path)


def test_many_seen_digests_round_trip_in_batches(store: StateStore) -> None:
    rows = tuple(SeenRow(i.to_bytes(16, "big"), i % 3, 100.0 * (i % 2)) for i in range(1000))
    for part in (rows[:400], rows[400:]):  # two commits, each of six batches
        groups: dict[tuple[int, float], list[bytes]] = {}
        for row in part:
            groups.setdefault((row.partition, row.forget_after_s), []).append(row.digest)
        batches = tuple(SeenBatch(p, forget, digests) for (p, forget), digests in groups.items())
        store.commit(StateChanges(seen=batches), {}, {})
    loaded = store.load("events", [1, 2])
    assert sorted(loaded.seen, key=lambda r: r.digest) == [r for r in rows if r.partition]
    store.commit(StateChanges(forget_seen_before_s=50.0), {}, {})
    assert {r.forget_after_s for r in store.load_all().seen} == {100.0}
    # a snapshot or report has no use for them: they can be left in the store
    assert store.load_all(seen=False).seen == ()


def test_a_version_1_state_file_is_migrated(tmp_path: Path) -> None:
    """Version 1 kept one `seen` row per digest; they become batches of one."""
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema_version', '1');"
        "CREATE TABLE seen (digest BLOB PRIMARY KEY, partition INTEGER NOT NULL,"
        " forget_after_s REAL NOT NULL) WITHOUT ROWID;"
    )
    db.executemany(
        "INSERT INTO seen VALUES (?, ?, ?)", [(b"\x07" * 16, 1, 9.0), (b"\x08" * 16, 2, 9.0)]
    )
    db.commit()
    db.close()
    store = SqliteStore(path)
    assert sorted(store.load_all().seen, key=lambda r: r.digest) == [
        SeenRow(b"\x07" * 16, 1, 9.0),
        SeenRow(b"\x08" * 16, 2, 9.0),
    ]
    # digests of (source, id) only: they keep marking duplicates until the last expires
    assert store.load_all().legacy_seen_until_s == 9.0
    store.close()
    tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "seen" not in tables
    assert SqliteStore(path).load_all().legacy_seen_until_s == 9.0  # migrated once


def test_windows_are_upserted_by_their_key_and_forgotten(store: StateStore) -> None:
    first = WindowRow("alpha", "api", "api", 0, 3_600_000_000, 36_000_000, 100.0)
    other = WindowRow("alpha", "other", "queue", 0, 60_000_000, 0, 200.0)
    store.commit(StateChanges(projects=CHANGES.projects, windows=(first, other)), {}, {})
    resent = first._replace(downtime_us=1_000_000)
    store.commit(StateChanges(windows=(resent,)), {}, {})
    assert sorted(store.load("events", [2]).windows) == sorted([resent, other])
    assert store.load("events", [3]).windows == ()
    store.commit(StateChanges(forget_seen_before_s=150.0), {}, {})
    assert store.load_all().windows == (other,)
    assert store.load_all().legacy_seen_until_s == 0.0  # a new store holds no old digests


def test_claims_bump_generations_and_fence_stale_writers(store: StateStore) -> None:
    first = store.claim("events", [0, 1], "a")
    assert first == {("events", 0): 1, ("events", 1): 1}
    second = store.claim("events", [1], "b")
    assert second == {("events", 1): 2}
    store.commit(CHANGES, {("events", 0): 5}, {("events", 0): 1})  # still a's
    with pytest.raises(FencedError) as fenced:
        store.commit(CHANGES, {("events", 1): 5}, {("events", 0): 1, ("events", 1): 1})
    assert fenced.value.lost == [("events", 1)]
    assert store.load_all().offsets == {("events", 0): 5}


def test_postgres_down_is_a_transient_error() -> None:
    with pytest.raises(TransientStoreError, match="127.0.0.1"):
        PostgresStore("postgresql://postgres@127.0.0.1:1/test")


def test_postgres_schema_is_created_and_versioned(postgres_dsn: str) -> None:
    PostgresStore(postgres_dsn).close()
    again = PostgresStore(postgres_dsn)  # idempotent on an existing schema
    assert again.load_all() == LoadedState()
    again.close()


def test_postgres_instances_starting_together_migrate_once(postgres_dsn: str) -> None:
    """Four collectors start on a version-1 schema at once: one migrates, none fails."""
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        db.execute(
            "CREATE TABLE seen (digest BYTEA PRIMARY KEY, partition INTEGER NOT NULL,"
            " forget_after_s DOUBLE PRECISION NOT NULL)"
        )
        db.execute("INSERT INTO seen VALUES (%s, 3, 9.0)", (b"\x05" * 16,))
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            stores.append(PostgresStore(postgres_dsn))
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stores[0].load_all().seen == (SeenRow(b"\x05" * 16, 3, 9.0),)
    for store in stores:
        store.close()


def test_remembered_runs_and_verdicts_round_trip_by_partition_and_expire(
    store: StateStore,
) -> None:
    runs = (
        RunRow(2, 500.0, [["alpha", "r1", "2026-11", 20407, "succeeded", 900_000_000]]),
        RunRow(3, 900.0, [["beta", "r9", "2026-11", 20407, "failed", 0]]),
    )
    reviews = (
        ReviewRow("alpha", "r1", {"pending": False, "verdict": "rejected"}, 500.0),
        ReviewRow("alpha", "r2", {"pending": True, "verdict": "accepted"}, 150.0),
    )
    projects = (ProjectRow("alpha", 2, {}), ProjectRow("beta", 3, {}))
    store.commit(StateChanges(projects=projects, runs=runs, reviews=reviews), {}, {})
    # a later verdict on the same run replaces its row
    replaced = ReviewRow("alpha", "r1", {"pending": False, "verdict": "accepted"}, 500.0)
    store.commit(StateChanges(reviews=(replaced,)), {}, {})
    alpha = store.load("events", [2])
    assert alpha.runs == (runs[0],)
    assert sorted(alpha.reviews) == [replaced, reviews[1]]
    assert store.load("events", [3]).reviews == ()
    store.commit(StateChanges(forget_seen_before_s=200.0), {}, {})
    assert [r.subject for r in store.load("events", [2]).reviews] == ["r1"]
    store.commit(StateChanges(forget_seen_before_s=600.0), {}, {})
    assert store.load("events", [2]).runs == () and store.load("events", [3]).runs == (runs[1],)


def test_statements_are_kept_per_project_and_replaced_by_the_latest(store: StateStore) -> None:
    projects = (ProjectRow("alpha", 2, {}), ProjectRow("beta", 3, {}))
    first = StatementRow("alpha", "AWS/1/2026-11-01", {"version": "aa", "lines": [[1, "x", 5]]})
    other = StatementRow("beta", "AWS/1/2026-11-01", {"version": "aa", "lines": []})
    store.commit(StateChanges(projects=projects, statements=(first, other)), {}, {})
    newer = first._replace(data={"version": "bb", "lines": []})
    store.commit(StateChanges(statements=(newer,)), {}, {})
    assert store.load("events", [2]).statements == (newer,)
    assert store.load("events", [3]).statements == (other,)
    assert sorted(store.load_all().statements) == [newer, other]


def test_declaration_revisions_are_shared_by_every_partition_and_never_rewritten(
    store: StateStore,
) -> None:
    first = RevisionRow("alpha", 1, "aa", 10.0, {"spec.objectives.savings": 20000}, [])
    second = RevisionRow(
        "alpha", 2, "bb", 20.5, {"spec.objectives.savings": 15000},
        [["spec.objectives.savings", 20000, 15000]],
    )  # fmt: skip
    other = RevisionRow("beta", 1, "cc", 11.0, {"spec.owner": "sre"}, [])
    store.commit(StateChanges(revisions=(first, other)), {}, {})
    store.commit(StateChanges(revisions=(second,)), {}, {})
    # another instance writing its own revision 2 of alpha later changes nothing
    store.commit(StateChanges(revisions=(second._replace(digest="zz", effective_s=99.0),)), {}, {})
    assert store.load("events", [7]).revisions == (first, second, other)  # any partition
    assert store.load_all(seen=False).revisions == (first, second, other)
