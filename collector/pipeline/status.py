"""What the pipeline tells `/readyz`, and how it waits out a state store that is away."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TypeVar

from collector.retry import Backoff
from collector.state.model import TopicPartitionKey
from collector.state.store import TransientStoreError

log = logging.getLogger(__name__)
T = TypeVar("T")

SETTLE_SESSIONS: Final = 3
"""How many session timeouts a collector may hold no partition before /readyz says the
consumer group is not settling (a group stuck rebalancing after a crash, or more
consumers than partitions)."""


class Holding:
    """Since when a collector (all its consumers) has held no partition of its topic.

    `unheld_s` is 0 while it holds one; past `bound_s` (SETTLE_SESSIONS session timeouts,
    counted from the start) it is not ready, also while it serves stored numbers."""

    def __init__(self, session_timeout_ms: int) -> None:
        self.bound_s = SETTLE_SESSIONS * session_timeout_ms / 1000
        self._since: float | None = time.monotonic()

    def unheld_s(self, holding: bool) -> float:
        if holding:
            self._since = None
            return 0.0
        now = time.monotonic()
        since = self._since = self._since or now
        return now - since

    def problem(self, holding: bool, states: str) -> str | None:
        """Why /readyz is 503 when the group has not handed out a partition in time."""
        unheld_s = self.unheld_s(holding)
        if unheld_s <= self.bound_s:
            return None
        return (
            f"no partitions held for {unheld_s:.0f} s (over {SETTLE_SESSIONS} session"
            f" timeouts): the consumer group is not settling ({states})"
        )


@dataclass
class PipelineStatus:
    """Readiness as `/readyz` reports it; written by the pipeline thread only."""

    loaded: bool = False
    store_error: str | None = None
    broker_error: str | None = None
    assigned: frozenset[TopicPartitionKey] = field(default_factory=frozenset)
    settled: bool = False
    """Its consumer's latest rebalance has ended (what it exports is all it holds)."""
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
