"""What the pipeline tells `/readyz`, and how it waits out a state store that is away."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from collector.retry import Backoff
from collector.state.model import TopicPartitionKey
from collector.state.store import TransientStoreError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class PipelineStatus:
    """Readiness as `/readyz` reports it; written by the pipeline thread only."""

    loaded: bool = False
    store_error: str | None = None
    broker_error: str | None = None
    assigned: frozenset[TopicPartitionKey] = field(default_factory=frozenset)
    preloaded: bool = False
    """Exporting the whole stored state while the group join is pending (single instance)."""

    def problems(self) -> list[str]:
        problems = []
        if not self.loaded:
            problems.append("state not loaded")
        if not self.assigned and not self.preloaded:
            problems.append("no partitions assigned")
        return problems + self.errors()

    def errors(self) -> list[str]:
        """What keeps it from counting at all: the state store or the broker failing."""
        errors = []
        if self.store_error:
            errors.append(f"state store: {self.store_error}")
        if self.broker_error:
            errors.append(f"broker: {self.broker_error}")
        return errors


class Durable:
    """Runs a state-store operation until it succeeds, backing off while the store is
    away (with the reason on `status`). The in-memory state already holds the batch, so
    giving up is not an option: a kill meanwhile replays the batch after restart."""

    def __init__(self, status: PipelineStatus, max_backoff_s: float) -> None:
        self._status = status
        self._max_backoff_s = max_backoff_s

    def __call__(self, operation: Callable[[], T]) -> T:
        backoff = Backoff(0.1, self._max_backoff_s)
        while True:
            try:
                result = operation()
            except TransientStoreError as error:
                self._status.store_error = str(error)
                wait_s = backoff.next_s()
                log.warning("state store unavailable, retrying in %.1fs: %s", wait_s, error)
                time.sleep(wait_s)
                continue
            self._status.store_error = None
            return result
