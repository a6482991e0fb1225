"""The state store seam: load everything once, then commit one batch atomically.

A store writes a batch's state changes and the consumed offsets in ONE transaction,
which is what makes processing effectively-once: after a crash the collector resumes
from the stored offsets with exactly the state those offsets imply.
"""

from __future__ import annotations

from typing import Protocol

from collector.state.model import LoadedState, StateChanges, TopicPartitionKey


class TransientStoreError(Exception):
    """The database is unavailable or busy; retrying the same commit may succeed."""


class StateStore(Protocol):
    """Owned by the pipeline thread; implementations need not be thread-safe."""

    def load(self) -> LoadedState:
        """Everything stored: projects, periods, seen digests, health, offsets."""
        ...

    def commit(self, changes: StateChanges, offsets: dict[TopicPartitionKey, int]) -> None:
        """Write `changes` and the next offsets to consume, all or nothing.

        Raises `TransientStoreError` when nothing was written and a retry may succeed.
        """
        ...

    def close(self) -> None: ...
