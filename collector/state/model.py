"""What the engine hands to a state store and gets back from it.

Rows carry plain JSON-able dicts so every store (SQLite, PostgreSQL) persists them
the same way; the engine alone knows their inside. State is organised by partition:
a project lives on one partition, so whoever owns the partition owns its state.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

TopicPartitionKey = tuple[str, int]
DIGEST_SIZE: Final = 16
"""Bytes of one seen digest (BLAKE2b of source and id)."""


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


class SeenRow(NamedTuple):
    """One event counted, as a store gives it back."""

    digest: bytes
    partition: int
    forget_after_s: float


class SeenBatch(NamedTuple):
    """The events a batch counted that share a partition and a forget-after time, as a
    store keeps them (one row of concatenated digests). The engine appends each event's
    digest to its batch's list: no object per event stays alive until the commit, which
    the cycle collector would walk (docs/PERFORMANCE.md)."""

    partition: int
    forget_after_s: float
    digests: Sequence[bytes]

    def rows(self) -> Iterator[SeenRow]:
        for digest in self.digests:
            yield SeenRow(digest, self.partition, self.forget_after_s)


def seen_rows(batches: Iterable[SeenBatch]) -> tuple[SeenRow, ...]:
    """The digests of `batches` one by one (as `LoadedState.seen` holds them)."""
    return tuple(row for batch in batches for row in batch.rows())


class WindowRow(NamedTuple):
    """One availability window as counted (a re-sent one replaces it: same key)."""

    project: str
    label: str
    """Its service label after folding."""
    service: str
    start_us: int
    end_us: int
    downtime_us: int
    forget_after_s: float


class IncidentRow(NamedTuple):
    """One incident of a project's service, as paired so far."""

    project: str
    service: str
    incident: str
    data: dict[str, Any]
    forget_after_s: float


class RunRow(NamedTuple):
    """The runs of one batch remembered for their reviews, sharing a partition and a
    forget-after time: one row per batch, as for seen digests."""

    partition: int
    forget_after_s: float
    runs: Sequence[Any]
    """Six items a run, flat: project, run id, month key, epoch day, outcome, manual µs
    (nothing is made per run that waits for the commit). Written before: a row of those
    six a run."""


class ReviewRow(NamedTuple):
    """A run's verdict as applied, or a review waiting for its run."""

    project: str
    subject: str
    data: dict[str, Any]
    forget_after_s: float


class StatementRow(NamedTuple):
    """A project's lines of the latest version of one statement (a cloud bill)."""

    project: str
    statement: str
    data: dict[str, Any]


class RevisionRow(NamedTuple):
    """One accepted version of a project's declaration: never rewritten."""

    project: str
    revision: int
    """1 for the first version this store saw, then one more per distinct version."""
    digest: str
    effective_s: float
    """When the collector first applied it."""
    document: dict[str, Any]
    """The declaration's fields, flattened (`spec.objectives.savings` -> 20000)."""
    changes: list[list[Any]]
    """[field, old, new] of each field that differs from the revision before (None:
    absent)."""


@dataclass(frozen=True, slots=True)
class StateChanges:
    """Everything one batch changed; a store writes it with the offsets in one transaction."""

    projects: tuple[ProjectRow, ...] = ()
    periods: tuple[PeriodRow, ...] = ()
    seen: tuple[SeenBatch, ...] = ()
    windows: tuple[WindowRow, ...] = ()
    incidents: tuple[IncidentRow, ...] = ()
    forget_seen_before_s: float | None = None
    """Seen digests and windows that can no longer matter are deleted."""
    health: tuple[tuple[int, dict[str, Any]], ...] = ()
    """(partition, health counters) for every partition whose counters changed."""
    declared: tuple[tuple[str, float], ...] = ()
    """(project, when its declaration first took effect): the first one stored stays."""
    revisions: tuple[RevisionRow, ...] = ()
    """New versions of declarations: a revision once stored stays as it is."""
    runs: tuple[RunRow, ...] = ()
    reviews: tuple[ReviewRow, ...] = ()
    statements: tuple[StatementRow, ...] = ()


@dataclass(frozen=True, slots=True)
class LoadedState:
    projects: tuple[ProjectRow, ...] = ()
    periods: tuple[PeriodRow, ...] = ()
    seen: tuple[SeenRow, ...] = ()
    health: dict[int, dict[str, Any]] = field(default_factory=dict)
    offsets: dict[TopicPartitionKey, int] = field(default_factory=dict)
    windows: tuple[WindowRow, ...] = ()
    legacy_seen_until_s: float = 0.0
    """Until when digests written before duplicates were keyed by project may still be
    held (state from schema version 2): such a digest also marks a duplicate."""
    incidents: tuple[IncidentRow, ...] = ()
    declared: dict[str, float] = field(default_factory=dict)
    """project -> when its declaration first took effect (every project: the table is small
    and a partition's new owner needs the declared projects it now exports)."""
    runs: tuple[RunRow, ...] = ()
    reviews: tuple[ReviewRow, ...] = ()
    statements: tuple[StatementRow, ...] = ()
    revisions: tuple[RevisionRow, ...] = ()
    """Every project's declaration history, oldest first (every project, as `declared`)."""

    @property
    def partitions(self) -> set[int]:
        """The partitions something here belongs to."""
        held = {row.partition for row in self.projects} | set(self.health)
        return held | {seen.partition for seen in self.seen}
