"""Choosing the state store from the `--state` setting."""

from __future__ import annotations

from pathlib import Path

from collector.state.postgres import PostgresStore
from collector.state.sqlite import SqliteStore, check_state_file
from collector.state.store import StateStore


def shared_state(location: str) -> bool:
    """Whether several collector instances may share this state (a PostgreSQL DSN): then
    a partition that leaves one instance's workers may be another instance's."""
    return location.startswith(("postgresql://", "postgres://"))


def open_store(location: str) -> StateStore:
    """A SQLite path, or a `postgresql://` DSN for several collectors sharing state."""
    if shared_state(location):
        return PostgresStore(location)
    return SqliteStore(location)


def check_store(location: str) -> None:
    """Before a collector starts: refuse (UnusableStoreError) a SQLite state file that is
    not this collector's state; a PostgreSQL store is checked when it is reached."""
    if not shared_state(location) and location != ":memory:":
        check_state_file(Path(location))
