"""The ingest loop: poll -> decode -> dedup/aggregate -> dead-letter -> commit -> publish.

Threading: `run` executes on one thread, which owns the source (the Kafka consumer),
the engine and the store; rebalance callbacks (`assign`, `revoke`) run inside `poll` on
that same thread. Other threads only read `status` and the published snapshots.

Effectively-once: a batch's state changes and its next offsets are committed to the
store in one transaction, after the batch's rejections are acknowledged by the
dead-letter topic. A crash before that commit replays the batch from the stored
offsets onto the stored state; a crash after it loses nothing. (A crash between the
dead-letter acknowledgement and the commit can copy a rejection to the DLQ twice;
it is counted once.) Each commit is fenced by the owner generation of its partitions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from collector.engine.admission import Instant
from collector.engine.engine import Engine
from collector.integrations.model import Accepted, Ignored, Translation, Unmapped
from collector.pipeline.decode import decode
from collector.pipeline.pacing import PublishPacing
from collector.pipeline.partitions import Partitions, Source
from collector.pipeline.status import Durable, PipelineStatus
from collector.retry import Backoff
from collector.source.records import SourceRecord, size_of
from collector.state.model import TopicPartitionKey
from collector.state.store import FencedError, StateStore
from schemas.binding import KafkaRecord, to_binary
from schemas.envelope import EventError, Reason
from schemas.events import EventType
from schemas.snapshot import Snapshot

log = logging.getLogger(__name__)


class DeadLetters(Protocol):
    """Produces and waits for the broker's acknowledgement (before the batch commits)."""

    def send_all(self, rejected: list[tuple[SourceRecord, EventError]]) -> None: ...

    def forward(self, topic: str, records: list[KafkaRecord]) -> None: ...


TRANSLATED_TYPE = "cdevents"
"""The `type` label of tools' records counted by the collector (bounded, whatever they say)."""
Translator = Callable[[SourceRecord], Translation | None]
"""A tool's record (a CDEvent) -> its outcome events by the declared rules; None when the
record is no tool's."""


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    max_event_bytes: int = 1_048_576
    poll_timeout_s: float = 0.2
    publish_interval_s: float = 0.2
    eager_publish_s: float = 0.02
    """Under light load (a small batch just committed) numbers are published this soon after
    the last publish instead of `publish_interval_s`: fresh dashboards at no cost; under
    load the interval bounds the snapshots' CPU."""
    eager_batch: int = 256
    publish_share: float = 0.02
    """Under load, snapshots are spaced so that building them takes at most this share of
    the ingest thread (a snapshot of many changed projects takes milliseconds), and ..."""
    max_publish_interval_s: float = 2.0
    """... never further apart than this."""
    maintenance_interval_s: float = 60.0
    probe_interval_s: float = 5.0
    """How often the broker is asked for end offsets (readiness when it hangs)."""
    max_backoff_s: float = 10.0
    trust_stored_offsets: bool = True
    """False for a broker that starts empty every time (embedded): consume from the start."""
    owner: str = "collector"


class Pipeline:
    def __init__(
        self,
        engine: Engine,
        store: StateStore,
        dead_letters: DeadLetters | None,
        *,
        publish: Callable[[Snapshot], None],
        settings: PipelineSettings | None = None,
        translate: Translator | None = None,
        status: PipelineStatus | None = None,
    ) -> None:
        """`status`: where readiness is reported (shared with whoever built the engine's
        archive on the same store, so both report the store's problems)."""
        self.engine = engine
        self.store = store
        self.dead_letters = dead_letters
        self.publish = publish
        self.settings = settings = settings or PipelineSettings()
        self.status = status or PipelineStatus()
        self._max_event_bytes = settings.max_event_bytes  # (a native attribute: per record)
        self._durable = Durable(self.status, settings.max_backoff_s)
        self.partitions = Partitions(
            engine, store, self.status, self._durable,
            owner=settings.owner, trust_stored_offsets=settings.trust_stored_offsets,
        )  # fmt: skip
        self._pacing = PublishPacing(
            settings.publish_interval_s, settings.eager_publish_s, settings.eager_batch,
            settings.publish_share, settings.max_publish_interval_s,
        )  # fmt: skip
        self._stop: threading.Event | None = None
        self._last_maintenance = time.monotonic()
        self._last_probe = 0.0
        self.translate = translate
        """CDEvents on the topic become outcome events (None: they are rejected)."""
        self._forward: list[KafkaRecord] = []

    @property
    def next_offsets(self) -> dict[TopicPartitionKey, int]:
        return self.partitions.next_offsets

    @property
    def source(self) -> Source | None:
        """The consumer, once `run` was given it (its partitions' owner knows it too)."""
        return self.partitions.source

    @source.setter
    def source(self, source: Source | None) -> None:
        self.partitions.source = source

    # -- partitions (rebalance callbacks run inside `poll`, on this thread) -----------------

    def preload(self) -> None:
        """Export everything stored before the group join (a single-instance store).

        A restarted collector then serves its last committed numbers at once instead
        of after the join; they move again once the partitions are assigned.
        """
        projects = self.partitions.preload()
        self._publish(force=True)
        self.status.loaded = self.status.preloaded = True  # ready once it is on /metrics
        log.info("serving the stored state of %d projects", projects)

    def assign(self, topic: str, partitions: list[int]) -> dict[int, int | None]:
        """Claim `partitions`, load their state; returns where to resume each."""
        return self.partitions.assign(topic, partitions)

    def revoke(self, topic: str, partitions: list[int]) -> None:
        """Stop exporting `partitions`; everything applied was committed already."""
        self.partitions.revoke(topic, partitions)

    # -- the loop ----------------------------------------------------------------------

    def run(self, source: Source, stop: threading.Event) -> None:
        """Process batches until `stop` is set; then return after the current batch."""
        self.source, self._stop = source, stop
        self._publish(force=True)
        backoff = Backoff(0.1, self.settings.max_backoff_s)
        while not stop.is_set():
            try:
                records = source.poll(self._pacing.poll_timeout_s(self.settings.poll_timeout_s))
            except Exception as error:  # noqa: BLE001 - broker trouble is transient
                self.status.broker_error = str(error) or type(error).__name__
                wait_s = backoff.next_s()
                log.warning("poll failed, retrying in %.1fs: %s", wait_s, error)
                stop.wait(wait_s)
                continue
            backoff.reset()
            self.status.assigned, self.status.settled = source.assigned, source.settled
            if records:
                self.status.broker_error = None
                self.process(records)
                self._pacing.applied(len(records))
            self._probe(source)
            self._maintain()
            self._publish()

    def process(self, records: list[SourceRecord]) -> None:
        """Apply one polled batch and commit it; returns once it is durable (or fenced)."""
        rejected: list[tuple[SourceRecord, EventError]] = []
        offsets = self._apply_all(records, rejected)
        if rejected or self._forward:
            if self.dead_letters is None:
                raise RuntimeError("no dead-letter producer: rejections cannot be acknowledged")
            if self._forward:  # produced before the offsets commit: a crash re-sends, deduped
                self.dead_letters.forward(records[0].topic, self._forward)
                self._forward = []
            if rejected:
                self.dead_letters.send_all(rejected)
        held = self.partitions.fence
        fence = {tp: held[tp] for tp in offsets if tp in held}
        changes = self.engine.take_changes()  # once: a retry must write the same batch
        try:
            self._durable(lambda: self.store.commit(changes, offsets, fence))
        except FencedError as fenced:
            self.partitions.recover_from_fence(fenced.lost, sorted(offsets))
            return
        self.partitions.next_offsets.update(offsets)
        if self.source is not None:
            self.source.commit_async(offsets)

    def _apply_all(
        self, records: list[SourceRecord], rejected: list[tuple[SourceRecord, EventError]]
    ) -> dict[TopicPartitionKey, int]:
        """Apply each record (the rejected ones to `rejected`); each partition's next offset."""
        offsets: dict[TopicPartitionKey, int] = {}
        at = self.engine.instant()
        # a poll gives each partition's records in a row: its next offset is noted when
        # the partition changes (a key made per partition, not per record)
        topic, partition, next_offset, started = "", 0, 0, False
        for record in records:
            error = self._apply(record, at)
            if error is not None:
                rejected.append((record.restored(), error))
            if record.partition != partition or record.topic != topic or not started:
                if started:
                    offsets[(topic, partition)] = next_offset
                topic, partition, started = record.topic, record.partition, True
            next_offset = record.offset + 1
        if started:
            offsets[(topic, partition)] = next_offset
        return offsets

    def _apply(self, record: SourceRecord, at: Instant) -> EventError | None:
        try:
            event, event_s = record.event, record.event_s
            if event is None or size_of(record) > self._max_event_bytes:
                if record.raw is not None:  # `restored()` is Python code (a named tuple's)
                    record = record.restored()
                event, event_s = decode(record, self._max_event_bytes)
        except EventError as error:
            translated = self._translated(record, error)
            if translated is not None:
                return self._apply_translated(record, translated, at)
            self.engine.reject(error.event_type, error.reason, record.partition, at)
            return error
        try:
            self.engine.apply(event, record.partition, at, event_s)
        except EventError as error:
            self.engine.reject(event.type.value, error.reason, record.partition, at)
            return error
        return None

    def _translated(self, record: SourceRecord, error: EventError) -> Translation | None:
        """A record that is no outcome event may be a tool's (a CDEvent is malformed,
        invalid or of unknown type to our schema, by the CloudEvents mode it came in)."""
        if error.reason is Reason.TOO_LARGE or self.translate is None:
            return None
        return self.translate(record)

    def _apply_translated(
        self, record: SourceRecord, translated: Translation, at: Instant
    ) -> EventError | None:
        """A tool's record: its events are produced to the topic keyed by project (so each
        project stays on its partition) and counted when they come back; ignored records
        are counted; unmapped and invalid ones are dead-lettered."""
        if isinstance(translated, Accepted):
            self._forward.extend(to_binary(event) for event in translated.events)
            self.engine.note(TRANSLATED_TYPE, "translated", record.partition, at)
            return None
        if isinstance(translated, Ignored):
            self.engine.note(TRANSLATED_TYPE, "ignored", record.partition, at)
            return None
        reason = Reason.UNMAPPED if isinstance(translated, Unmapped) else Reason.INVALID
        error = EventError(reason, translated.detail)
        self.engine.reject(TRANSLATED_TYPE, reason, record.partition, at)
        return error

    def _probe(self, source: Source) -> None:
        now = time.monotonic()
        if now - self._last_probe < self.settings.probe_interval_s:
            return
        self._last_probe = now
        try:
            source.probe()
        except Exception as error:  # noqa: BLE001 - a hanging broker is transient
            self.status.broker_error = f"not answering: {error or type(error).__name__}"
            log.warning("broker not answering: %s", error)
            return
        self.status.broker_error = None

    def _maintain(self) -> None:
        now = time.monotonic()
        if now - self._last_maintenance < self.settings.maintenance_interval_s:
            return
        self._last_maintenance = now
        changes = self.engine.forget_closed()
        if self._dead_letter_unmatched():  # their rejection counted with the forgetting
            changes = replace(
                self.engine.take_changes(), forget_seen_before_s=changes.forget_seen_before_s
            )
        if changes.forget_seen_before_s is not None:
            self._durable(lambda: self.store.commit(changes, {}, {}))

    def _dead_letter_unmatched(self) -> bool:
        """Reviews whose run never came, to the dead-letter topic (acknowledged before they
        are forgotten: a crash re-sends them). Whether there were any."""
        unmatched = self.engine.take_unmatched()
        if not unmatched:
            return False
        if self.dead_letters is None:
            raise RuntimeError("no dead-letter producer: rejections cannot be acknowledged")
        topics = {partition: topic for topic, partition in self.partitions.fence}
        self.dead_letters.send_all(
            [
                (
                    SourceRecord(topics.get(p, ""), p, -1, r.key, r.headers, r.value),
                    EventError(Reason.UNMATCHED, why, EventType.REVIEW_RECORDED.value),
                )
                for p, r, why in unmatched
            ]
        )
        return True

    def _publish(self, force: bool = False) -> None:
        started_s = self._pacing.start(force)
        if started_s is None:
            return
        lag = self.source.lag(self.next_offsets) if self.source is not None else []
        self.publish(self.engine.snapshot(lag, self.partitions.owns_declared))
        self._pacing.finished(started_s)
        declared = self.engine.take_declared()
        if declared.declared or declared.revisions:
            self._durable(lambda: self.store.commit(declared, {}, {}))
