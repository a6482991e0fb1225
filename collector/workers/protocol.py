"""The messages between a collector and its worker processes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DELTA: Final = "delta"
"""worker -> collector: (DELTA, SnapshotDelta)."""
STATUS: Final = "status"
"""worker -> collector: (STATUS, WorkerStatus), twice a second and on the way out."""
STOP: Final = "stop"
"""collector -> worker: (STOP,): finish the batch, commit, leave the group, exit."""


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    errors: tuple[str, ...]
    """What keeps the worker from counting: broker, state store, a failure."""
    partitions: tuple[int, ...]
    """The partitions it owns now."""
    loaded: bool
    """Its partitions' state is loaded (set at its first assignment)."""
