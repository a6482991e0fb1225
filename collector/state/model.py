"""What the engine hands to a state store and gets back from it.

Rows carry plain JSON-able dicts so every store (SQLite, PostgreSQL) persists them
the same way; the engine alone knows their inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TopicPartitionKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class ProjectRow:
    project: str
    partition: int
    counters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PeriodRow:
    project: str
    key: str
    kind: str
    start_s: float
    end_s: float
    totals: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StateChanges:
    """Everything one batch changed; a store writes it with the offsets in one transaction."""

    projects: tuple[ProjectRow, ...] = ()
    periods: tuple[PeriodRow, ...] = ()
    seen: tuple[tuple[bytes, float], ...] = ()
    """(digest of (source, id), forget-after epoch seconds)."""
    forget_seen_before_s: float | None = None
    health: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class LoadedState:
    projects: tuple[ProjectRow, ...] = ()
    periods: tuple[PeriodRow, ...] = ()
    seen: tuple[tuple[bytes, float], ...] = ()
    health: dict[str, Any] = field(default_factory=dict)
    offsets: dict[TopicPartitionKey, int] = field(default_factory=dict)
