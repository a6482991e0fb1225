"""Choosing the state store from the `--state` setting."""

from __future__ import annotations

from pathlib import Path

from collector.state.postgres import PostgresStore
from collector.state.sqlite import SqliteStore, check_state_file
from collector.state.store import StateStore


def open_store(location: str) -> StateStore:
    """A SQLite path, or a `postgresql://` DSN for several collectors sharing state."""
    if location.startswith(("postgresql://", "postgres://")):
        return PostgresStore(location)
    return SqliteStore(location)


def check_store(location: str) -> None:
    """Before a collector starts: refuse (UnusableStoreError) a SQLite state file that is
    not this collector's state; a PostgreSQL store is checked when it is reached."""
    if not location.startswith(("postgresql://", "postgres://")) and location != ":memory:":
        check_state_file(Path(location))
