from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from collector.state.model import PeriodRow, ProjectRow, StateChanges
from collector.state.sqlite import SqliteStore
from collector.state.store import TransientStoreError

CHANGES = StateChanges(
    projects=(ProjectRow("alpha", 2, {"runs": [["x", "succeeded", 3]]}),),
    periods=(PeriodRow("alpha", "2026-11", "month", 1.0, 2.0, {"runs": {"succeeded": 3}}),),
    seen=((b"\x01" * 16, 100.0), (b"\x02" * 16, 200.0)),
    health={"events": [["outcomes.run.finished", "accepted", 3]]},
)


def test_commit_then_load_round_trips(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    store.commit(CHANGES, {("events", 0): 42, ("events", 1): 7})
    store.close()
    loaded = SqliteStore(tmp_path / "state.db").load()
    assert loaded.projects == CHANGES.projects
    assert loaded.periods == CHANGES.periods
    assert sorted(loaded.seen) == sorted(CHANGES.seen)
    assert loaded.health == CHANGES.health
    assert loaded.offsets == {("events", 0): 42, ("events", 1): 7}


def test_upserts_replace_rows_and_forget_prunes_seen(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    store.commit(CHANGES, {("events", 0): 1})
    newer = ProjectRow("alpha", 2, {"runs": []})
    store.commit(StateChanges(projects=(newer,), forget_seen_before_s=150.0), {("events", 0): 9})
    loaded = store.load()
    assert loaded.projects == (newer,)
    assert loaded.seen == ((b"\x02" * 16, 200.0),)
    assert loaded.offsets == {("events", 0): 9}


def test_a_failed_commit_writes_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    bad = StateChanges(projects=(ProjectRow("alpha", 0, {"x": object()}),))
    with pytest.raises(TypeError):
        store.commit(bad, {("events", 0): 5})
    assert store.load().offsets == {}
    assert store.load().projects == ()


def test_a_locked_database_is_a_transient_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path, busy_timeout_s=0.05)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(TransientStoreError, match="locked"):
            store.commit(CHANGES, {("events", 0): 1})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.commit(CHANGES, {("events", 0): 1})
    assert store.load().offsets == {("events", 0): 1}


def test_readers_see_committed_state_while_a_writer_works(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    store.commit(CHANGES, {("events", 0): 1})
    seen: list[int] = []

    def read() -> None:
        seen.append(len(SqliteStore(path).load().projects))

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
