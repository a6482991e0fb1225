"""The state store seam: claim partitions, load their state, commit batches atomically.

A store writes a batch's state changes and the consumed offsets in ONE transaction,
which is what makes processing effectively-once: after a crash the collector resumes
from the stored offsets with exactly the state those offsets imply.

Fencing: claiming a partition bumps its generation; a commit names the generation it
holds for every partition it writes, and the store refuses the whole commit
(`FencedError`) if any of them moved on — a paused "zombie" that lost its partitions
can never write over the new owner's state.
"""

from __future__ import annotations

from typing import Protocol

from collector.state.model import LoadedState, PeriodRow, StateChanges, TopicPartitionKey

Fence = dict[TopicPartitionKey, int]
"""(topic, partition) -> owner generation the writer holds."""


class TransientStoreError(Exception):
    """The database is unavailable or busy; retrying the same call may succeed."""


class UnusableStoreError(Exception):
    """The state location holds something that is not this collector's state (a corrupt
    file, another program's database): nothing is written to it, and retrying cannot help."""


class FencedError(Exception):
    """Another instance claimed some of these partitions; nothing was written."""

    def __init__(self, lost: list[TopicPartitionKey]) -> None:
        super().__init__(f"partitions claimed by another instance: {sorted(lost)}")
        self.lost = lost


class StateStore(Protocol):
    """Owned by the pipeline thread; implementations need not be thread-safe."""

    single_instance: bool
    """True when one collector owns everything stored (SQLite: one host, one file), so
    the stored state can be exported before the consumer group assigns partitions."""

    def claim(self, topic: str, partitions: list[int], owner: str) -> Fence:
        """Become the owner of `partitions`, returning the new generations."""
        ...

    def load(self, topic: str, partitions: list[int]) -> LoadedState:
        """The state of `partitions`: their projects, periods, seen ids, health, offsets."""
        ...

    def load_all(self, *, seen: bool = True) -> LoadedState:
        """Everything stored; without the digests of the events already counted when
        `seen` is false (a snapshot or report does not need them: only deduplication)."""
        ...

    def load_period(self, project: str, key: str) -> PeriodRow | None:
        """One month of a project as stored (a history import reopens an old month)."""
        ...

    def commit(
        self, changes: StateChanges, offsets: dict[TopicPartitionKey, int], fence: Fence
    ) -> None:
        """Write `changes` and the next offsets, all or nothing.

        Raises `FencedError` if `fence` is stale, `TransientStoreError` when nothing was
        written and a retry may succeed.
        """
        ...

    def close(self) -> None: ...
