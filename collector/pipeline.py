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
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from kafka.partitioner.default import murmur2

from collector.decode import decode
from collector.engine.admission import Instant
from collector.engine.engine import Engine
from collector.integrations.model import Accepted, Ignored, Translation, Unmapped
from collector.retry import Backoff
from collector.source.records import SourceRecord
from collector.state.model import LoadedState, PeriodRow, TopicPartitionKey
from collector.state.store import Fence, FencedError, StateStore, TransientStoreError
from schemas.binding import KafkaRecord, to_binary
from schemas.envelope import EventError, Reason
from schemas.snapshot import Snapshot

log = logging.getLogger(__name__)
T = TypeVar("T")


class Source(Protocol):
    @property
    def assigned(self) -> frozenset[TopicPartitionKey]: ...

    def poll(self, timeout_s: float) -> list[SourceRecord]: ...

    def commit_async(self, offsets: dict[TopicPartitionKey, int]) -> None: ...

    def lag(self, next_offsets: dict[TopicPartitionKey, int]) -> list[tuple[str, int, int]]: ...

    def seek(self, partition: int, offset: int | None) -> None: ...

    def pause(self, partitions: list[int]) -> None: ...

    def partition_count(self) -> int | None: ...

    def probe(self, timeout_s: float = 2.0) -> None: ...


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


def partition_of(project: str, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for key = project."""
    digest: int = murmur2(project.encode())
    return (digest & 0x7FFFFFFF) % partitions


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
    ) -> None:
        self.engine = engine
        self.store = store
        self.dead_letters = dead_letters
        self.publish = publish
        self.settings = settings or PipelineSettings()
        self.source: Source | None = None
        self.next_offsets: dict[TopicPartitionKey, int] = {}
        """(topic, partition) -> next offset to consume; mirrors the store after each commit."""
        self.fence: Fence = {}
        self.status = PipelineStatus()
        self._stop: threading.Event | None = None
        self._last_publish = 0.0
        self._unpublished = False
        """Batches were applied since the last snapshot was published."""
        self._publish_cost_s = 0.0
        """How long building and handing out the last snapshot took."""
        self._light_load = False
        """The last batch was small: its numbers go out `eager_publish_s` after the last
        publish (the loop wakes for it), not after `publish_interval_s`."""
        self._last_maintenance = time.monotonic()
        self._last_probe = 0.0
        self._preloaded: LoadedState | None = None
        """What `preload` exported, until the first assignment takes over from it."""
        self.translate = translate
        """CDEvents on the topic become outcome events (None: they are rejected)."""
        self._forward: list[KafkaRecord] = []
        engine.owns = self._owns_declared
        engine.archive = self._archived_month

    # -- partitions --------------------------------------------------------------------

    def preload(self) -> None:
        """Export everything stored before the group join (a single-instance store).

        A restarted collector then serves its last committed numbers at once instead
        of after the join; they move again once the partitions are assigned. Nothing
        is written before that, so the first assignment keeps this state as loaded.
        """
        state = self._retry(self.store.load_all)
        self.engine.restore(state)
        self._preloaded = state
        self._publish(force=True)
        self.status.loaded = self.status.preloaded = True  # ready once it is on /metrics
        log.info("serving the stored state of %d projects", len(state.projects))

    def assign(self, topic: str, partitions: list[int]) -> dict[int, int | None]:
        """Claim `partitions`, load their state; returns where to resume each."""
        fence = self._retry(lambda: self.store.claim(topic, partitions, self.settings.owner))
        preloaded, self._preloaded = self._preloaded, None
        self.status.preloaded = False
        if preloaded is not None:  # the engine holds it already: keep what was assigned
            state = preloaded
            self.engine.release(state.partitions - set(partitions))
        else:
            state = self._retry(lambda: self.store.load(topic, partitions))
            self.engine.release(partitions)
            self.engine.adopt(state, partitions)
        self.fence.update(fence)
        resume: dict[int, int | None] = {}
        for partition in partitions:
            stored = state.offsets.get((topic, partition))
            resume[partition] = stored if self.settings.trust_stored_offsets else None
            if resume[partition] is not None:
                self.next_offsets[(topic, partition)] = stored  # type: ignore[assignment]
        self.status.loaded = True
        log.info(
            "loaded state of partitions %s (generation %s)", partitions, sorted(set(fence.values()))
        )
        return resume

    def revoke(self, topic: str, partitions: list[int]) -> None:
        """Stop exporting `partitions`; everything applied was committed already."""
        self.engine.release(partitions)
        for partition in partitions:
            self.fence.pop((topic, partition), None)
            self.next_offsets.pop((topic, partition), None)

    def _archived_month(self, project: str, key: str) -> PeriodRow | None:
        return self._retry(lambda: self.store.load_period(project, key))

    def _owns_declared(self, project: str) -> bool:
        count = self.source.partition_count() if self.source is not None else None
        if not count or self.source is None:
            return True
        owned = {partition for _, partition in self.source.assigned}
        return partition_of(project, count) in owned

    # -- the loop ----------------------------------------------------------------------

    def run(self, source: Source, stop: threading.Event) -> None:
        """Process batches until `stop` is set; then return after the current batch."""
        self.source, self._stop = source, stop
        self._publish(force=True)
        backoff = Backoff(0.1, self.settings.max_backoff_s)
        while not stop.is_set():
            try:
                records = source.poll(self._poll_timeout_s())
            except Exception as error:  # noqa: BLE001 - broker trouble is transient
                self.status.broker_error = str(error) or type(error).__name__
                wait_s = backoff.next_s()
                log.warning("poll failed, retrying in %.1fs: %s", wait_s, error)
                stop.wait(wait_s)
                continue
            backoff.reset()
            self.status.assigned = source.assigned
            if records:
                self.status.broker_error = None
                self.process(records)
                self._unpublished = True
                self._light_load = len(records) <= self.settings.eager_batch
            self._probe(source)
            self._maintain()
            self._publish()

    def process(self, records: list[SourceRecord]) -> None:
        """Apply one polled batch and commit it; returns once it is durable (or fenced)."""
        rejected: list[tuple[SourceRecord, EventError]] = []
        offsets: dict[TopicPartitionKey, int] = {}
        at = self.engine.instant()
        for record in records:
            error = self._apply(record, at)
            if error is not None:
                rejected.append((record.restored(), error))
            offsets[(record.topic, record.partition)] = record.offset + 1
        if rejected or self._forward:
            if self.dead_letters is None:
                raise RuntimeError("no dead-letter producer: rejections cannot be acknowledged")
            if self._forward:  # produced before the offsets commit: a crash re-sends, deduped
                self.dead_letters.forward(records[0].topic, self._forward)
                self._forward = []
            if rejected:
                self.dead_letters.send_all(rejected)
        fence = {tp: self.fence[tp] for tp in offsets if tp in self.fence}
        try:
            self._retry(lambda: self.store.commit(self.engine.take_changes(), offsets, fence))
        except FencedError as fenced:
            self._recover_from_fence(fenced.lost, sorted(offsets))
            return
        self.next_offsets.update(offsets)
        if self.source is not None:
            self.source.commit_async(offsets)

    def _apply(self, record: SourceRecord, at: Instant) -> EventError | None:
        try:
            event = record.event
            if event is None or record.size > self.settings.max_event_bytes:
                record = record.restored()
                event = decode(record, self.settings.max_event_bytes)
        except EventError as error:
            translated = self._translated(record, error)
            if translated is not None:
                return self._apply_translated(record, translated, at)
            self.engine.reject(error.event_type, error.reason, record.partition, at)
            return error
        try:
            self.engine.apply(event, record.partition, at)
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

    def _recover_from_fence(
        self, lost: list[TopicPartitionKey], touched: list[TopicPartitionKey]
    ) -> None:
        """Another instance owns `lost`: drop them; reload the rest of the batch's partitions.

        The batch was not written, so the in-memory state of every partition it touched
        is ahead of the store: those partitions are reloaded and re-consumed.
        """
        log.warning("fenced off partitions %s: another collector owns them now", lost)
        self.engine.take_changes()  # discard the unwritten batch
        for topic, partition in lost:
            self.revoke(topic, [partition])
        if self.source is not None:
            self.source.pause([partition for _, partition in lost])
        for topic, partition in touched:
            if (topic, partition) in lost:
                continue
            state = self._reload(topic, partition)
            self.engine.release([partition])
            self.engine.adopt(state, [partition])
            if self.source is not None:
                self.source.seek(partition, state.offsets.get((topic, partition)))

    def _reload(self, topic: str, partition: int) -> LoadedState:
        return self._retry(lambda: self.store.load(topic, [partition]))

    def _retry(self, operation: Callable[[], T]) -> T:
        """Run `operation`, retrying transient store errors with backoff until it succeeds.

        The in-memory state already holds the batch, so giving up is not an option:
        retry until durable (a kill meanwhile replays the batch after restart).
        """
        backoff = Backoff(0.1, self.settings.max_backoff_s)
        while True:
            try:
                result = operation()
            except TransientStoreError as error:
                self.status.store_error = str(error)
                wait_s = backoff.next_s()
                log.warning("state store unavailable, retrying in %.1fs: %s", wait_s, error)
                time.sleep(wait_s)
                continue
            self.status.store_error = None
            return result

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
        if changes.forget_seen_before_s is not None:
            self._retry(lambda: self.store.commit(changes, {}, {}))

    def _publish_due(self) -> float:
        """When the next snapshot is due (monotonic seconds)."""
        settings = self.settings
        if self._unpublished and self._light_load:
            return self._last_publish + settings.eager_publish_s
        paced_s = self._publish_cost_s / settings.publish_share
        paced_s = min(paced_s, settings.max_publish_interval_s)
        return self._last_publish + max(settings.publish_interval_s, paced_s)

    def _poll_timeout_s(self) -> float:
        """The poll waits no longer than until the next snapshot is due, so the numbers of
        a small batch are published on time even when nothing follows it."""
        until_due = self._publish_due() - time.monotonic()
        return min(self.settings.poll_timeout_s, max(until_due, 0.0))

    def _publish(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._publish_due():
            return
        self._last_publish = now
        self._unpublished = False
        lag = self.source.lag(self.next_offsets) if self.source is not None else []
        self.publish(self.engine.snapshot(lag))
        self._publish_cost_s = time.monotonic() - now
        declared = self.engine.take_declared()
        if declared.declared:
            self._retry(lambda: self.store.commit(declared, {}, {}))
