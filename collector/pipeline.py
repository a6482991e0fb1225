"""The ingest loop: poll -> decode -> dedup/aggregate -> dead-letter -> commit -> publish.

Threading: `run` executes on one thread, which owns the source (the Kafka consumer),
the engine and the store. Other threads only read `status` and the published
snapshots.

Effectively-once: a batch's state changes and its next offsets are committed to the
store in one transaction, after the batch's rejections are acknowledged by the
dead-letter topic. A crash before that commit replays the batch from the stored
offsets onto the stored state; a crash after it loses nothing. (A crash between the
dead-letter acknowledgement and the commit can copy a rejection to the DLQ twice;
it is counted once.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from collector.decode import decode
from collector.engine.engine import Engine
from collector.source.records import SourceRecord
from collector.state.model import StateChanges, TopicPartitionKey
from collector.state.store import StateStore, TransientStoreError
from schemas.envelope import EventError
from schemas.snapshot import Snapshot

log = logging.getLogger(__name__)


class Source(Protocol):
    @property
    def assigned(self) -> frozenset[TopicPartitionKey]: ...

    def poll(self, timeout_s: float) -> list[SourceRecord]: ...

    def commit_async(self, offsets: dict[TopicPartitionKey, int]) -> None: ...

    def lag(self, next_offsets: dict[TopicPartitionKey, int]) -> list[tuple[str, int, int]]: ...


class DeadLetters(Protocol):
    def send_all(self, rejected: list[tuple[SourceRecord, EventError]]) -> None: ...


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    max_event_bytes: int = 1_048_576
    poll_timeout_s: float = 0.2
    publish_interval_s: float = 0.2
    maintenance_interval_s: float = 60.0
    max_backoff_s: float = 10.0


@dataclass
class PipelineStatus:
    """Readiness as `/readyz` reports it; written by the pipeline thread only."""

    loaded: bool = False
    store_error: str | None = None
    broker_error: str | None = None
    assigned: frozenset[TopicPartitionKey] = field(default_factory=frozenset)

    def problems(self) -> list[str]:
        problems = []
        if not self.loaded:
            problems.append("state not loaded")
        if not self.assigned:
            problems.append("no partitions assigned")
        if self.store_error:
            problems.append(f"state store: {self.store_error}")
        if self.broker_error:
            problems.append(f"broker: {self.broker_error}")
        return problems


class Pipeline:
    def __init__(
        self,
        source: Source,
        engine: Engine,
        store: StateStore,
        dead_letters: DeadLetters,
        *,
        publish: Callable[[Snapshot], None],
        offsets: dict[TopicPartitionKey, int],
        settings: PipelineSettings | None = None,
    ) -> None:
        self.source = source
        self.engine = engine
        self.store = store
        self.dead_letters = dead_letters
        self.publish = publish
        self.settings = settings or PipelineSettings()
        self.next_offsets = offsets
        """(topic, partition) -> next offset to consume; mirrors the store after each commit."""
        self.status = PipelineStatus(loaded=True)
        self._last_publish = 0.0
        self._last_maintenance = time.monotonic()

    def run(self, stop: threading.Event) -> None:
        """Process batches until `stop` is set; then return after the current batch."""
        self._publish(force=True)
        backoff_s = 0.1
        while not stop.is_set():
            try:
                records = self.source.poll(self.settings.poll_timeout_s)
            except Exception as error:  # noqa: BLE001 - broker trouble is transient
                self.status.broker_error = str(error) or type(error).__name__
                log.warning("poll failed, retrying in %.1fs: %s", backoff_s, error)
                stop.wait(backoff_s)
                backoff_s = min(self.settings.max_backoff_s, backoff_s * 2)
                continue
            backoff_s = 0.1
            self.status.broker_error = None
            self.status.assigned = self.source.assigned
            if records:
                self.process(records, stop)
            self._maintain(stop)
            self._publish()

    def process(self, records: list[SourceRecord], stop: threading.Event | None = None) -> None:
        """Apply one polled batch and commit it; returns once it is durable."""
        rejected: list[tuple[SourceRecord, EventError]] = []
        offsets: dict[TopicPartitionKey, int] = {}
        for record in records:
            error = self._apply(record)
            if error is not None:
                rejected.append((record, error))
            offsets[(record.topic, record.partition)] = record.offset + 1
        if rejected:
            self.dead_letters.send_all(rejected)
        self._commit(self.engine.take_changes(), offsets, stop)
        self.next_offsets.update(offsets)
        self.source.commit_async(offsets)

    def _apply(self, record: SourceRecord) -> EventError | None:
        try:
            event = decode(record, self.settings.max_event_bytes)
        except EventError as error:
            self.engine.reject(error.event_type, error.reason)
            return error
        try:
            self.engine.apply(event, record.partition)
        except EventError as error:
            self.engine.reject(event.type.value, error.reason)
            return error
        return None

    def _commit(
        self,
        changes: StateChanges,
        offsets: dict[TopicPartitionKey, int],
        stop: threading.Event | None,
    ) -> None:
        """Commit, retrying transient store errors with backoff until it succeeds.

        The in-memory state already holds the batch, so giving up is not an option:
        retry until durable (a kill meanwhile replays the batch after restart).
        """
        backoff_s = 0.1
        while True:
            try:
                self.store.commit(changes, offsets)
            except TransientStoreError as error:
                self.status.store_error = str(error)
                log.warning("state commit failed, retrying in %.1fs: %s", backoff_s, error)
                time.sleep(backoff_s)
                backoff_s = min(self.settings.max_backoff_s, backoff_s * 2)
                continue
            self.status.store_error = None
            return

    def _maintain(self, stop: threading.Event) -> None:
        now = time.monotonic()
        if now - self._last_maintenance < self.settings.maintenance_interval_s:
            return
        self._last_maintenance = now
        changes = self.engine.forget_closed()
        if changes.forget_seen_before_s is not None:
            self._commit(changes, {}, stop)

    def _publish(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_publish < self.settings.publish_interval_s:
            return
        self._last_publish = now
        self.publish(self.engine.snapshot(self.source.lag(self.next_offsets)))
