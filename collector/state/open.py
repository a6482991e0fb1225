"""Choosing the state store from the `--state` setting."""

from __future__ import annotations

from collector.state.postgres import PostgresStore
from collector.state.sqlite import SqliteStore
from collector.state.store import StateStore


def open_store(location: str) -> StateStore:
    """A SQLite path, or a `postgresql://` DSN for several collectors sharing state."""
    if location.startswith(("postgresql://", "postgres://")):
        return PostgresStore(location)
    return SqliteStore(location)
