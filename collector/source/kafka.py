"""Kafka source on kafka-python: one consumer group, offsets owned by the state store.

The consumer never auto-commits. On assignment it seeks each partition to the offset
the state store holds (or to the beginning when the store has none), so what is
consumed next is exactly what the stored state has not yet seen. Kafka offset
commits are made only so that lag tooling sees progress.

Threading: every method must be called from the one thread that owns the consumer
(kafka-python consumers are not thread-safe); rebalance callbacks run inside `poll`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from collector.source.client_records import RecordFields, fields_of, source_records
from collector.source.records import SourceRecord

log = logging.getLogger(__name__)

OnAssigned = Callable[[str, list[int]], dict[int, int | None]]
"""(topic, partitions) -> next offset to consume per partition (None: from the start)."""
OnRevoked = Callable[[str, list[int]], None]
JOIN_POLL_S: Final = 3.5
"""Poll timeout while no partition is assigned. kafka-python 3.0.12 drops a join that
completes just after a poll timed out and joins again (another ~3 s): brokers answer a
new group's JoinGroup after a fixed 3 s (`group.initial.rebalance.delay.ms`, and Tansu
with a 6 s session), a multiple of short poll timeouts, so some starts took a second
join. A poll longer than that delay lets the join finish inside one poll."""


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    bootstrap_servers: str
    topic: str
    group_id: str
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 2_000
    max_poll_records: int = 10_000
    max_poll_interval_ms: int = 300_000
    fetch_max_wait_ms: int = 20
    max_partition_fetch_bytes: int = 8 << 20
    fetch_max_bytes: int = 64 << 20
    """Larger fetches than kafka-python's defaults (1 MiB per partition, 50 MiB): a
    consumer that drains its buffer waits for the next fetch's round trip, so fewer,
    larger fetches keep a busy collector from waiting (as the tuned bare consumer the
    benchmarks compare with). Only a backlog fills them."""
    client_id: str = "outcomes-collector"
    client: str = "kafka-python"
    """The Kafka client library: `kafka-python` (the default) or `confluent`
    (confluent-kafka, extra `fast`)."""
    leave_group: str = "always"
    """When a consumer process holding partitions leaves the group on its way out:
    `always` (also when its collector was killed: the partitions move at once), or
    `assigned`: only on a clean shutdown, else it vanishes and the broker drops it when its
    session expires (Tansu 0.6, the embedded broker, can wedge a group when a member leaves
    mid-rebalance). See `fetcher.Fetcher.leaves_group`."""
    security: tuple[tuple[str, Any], ...] = ()
    """Extra kafka-python settings (SSL, SASL), passed through unchanged."""


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, source: KafkaSource) -> None:
        self._source = source

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        with self._source.in_rebalance():
            self._source.note_revoked(revoked)

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        with self._source.in_rebalance():
            self._source.seek_assigned(assigned)


def check_reachable(bootstrap_servers: str, timeout_s: float = 3.0) -> None:
    """Raise `ConnectionError` unless at least one bootstrap server accepts TCP.

    Checked before creating kafka-python clients: their constructors block for a long
    time against a dead address and leak sockets when they give up.
    """
    problems = []
    for address in bootstrap_servers.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
                return
        except (OSError, ValueError) as error:
            problems.append(f"{address.strip()}: {error}")
    raise ConnectionError("no bootstrap server reachable (" + "; ".join(problems) + ")")


class KafkaSource:
    """Polls records for the pipeline and positions partitions from stored offsets."""

    def __init__(
        self, settings: ConsumerSettings, on_assigned: OnAssigned, on_revoked: OnRevoked
    ) -> None:
        self.settings = settings
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked
        check_reachable(settings.bootstrap_servers)
        self._consumer = KafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers.split(","),
            group_id=settings.group_id,
            client_id=settings.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.session_timeout_ms,
            heartbeat_interval_ms=settings.heartbeat_interval_ms,
            max_poll_records=settings.max_poll_records,
            max_poll_interval_ms=settings.max_poll_interval_ms,
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
            max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
            fetch_max_bytes=settings.fetch_max_bytes,
            **dict(settings.security),
        )
        self._assigned: frozenset[tuple[str, int]] = frozenset()
        self._partition_count: int | None = None
        self._rebalancing = False
        self._settled = False
        self._consumer.subscribe(topics=[settings.topic], listener=_Rebalance(self))

    @property
    def assigned(self) -> frozenset[tuple[str, int]]:
        return self._assigned

    @property
    def settled(self) -> bool:
        """Whether its latest rebalance has ended: an assignment (an empty one too) came
        after the last revocation. False before the first."""
        return self._settled

    def seek_assigned(self, assigned: set[TopicPartition]) -> None:
        """Claim and load the new partitions (pipeline), then position them."""
        mine = sorted(tp.partition for tp in assigned if tp.topic == self.settings.topic)
        self._assigned = frozenset((tp.topic, tp.partition) for tp in assigned)
        offsets = self._on_assigned(self.settings.topic, mine) if mine else {}
        for partition in mine:
            self.seek(partition, offsets.get(partition))
        self._settled = True
        log.info("assigned partitions %s", mine)

    def note_revoked(self, revoked: set[TopicPartition]) -> None:
        gone = sorted(tp.partition for tp in revoked if tp.topic == self.settings.topic)
        self._settled = False
        self._assigned = self._assigned - {(self.settings.topic, p) for p in gone}
        if gone:
            self._on_revoked(self.settings.topic, gone)
            log.info("revoked partitions %s", gone)

    def seek(self, partition: int, offset: int | None) -> None:
        tp = TopicPartition(self.settings.topic, partition)
        if offset is None:
            self._consumer.seek_to_beginning(tp)
        else:
            self._consumer.seek(tp, offset)

    def pause(self, partitions: list[int]) -> None:
        """Stop fetching `partitions` (fenced) until the group takes them away; those no
        longer assigned are left alone (kafka-python pauses only assigned ones)."""
        held = [p for p in partitions if (self.settings.topic, p) in self._assigned]
        if held:
            self._consumer.pause(*(TopicPartition(self.settings.topic, p) for p in held))

    def probe(self, timeout_s: float = 2.0) -> None:
        """A real round trip to the broker (end offsets of assigned partitions).

        Raises when the broker does not answer in time; a consumer's poll alone just
        returns nothing while a broker hangs, so readiness needs this.
        """
        partitions = [TopicPartition(t, p) for t, p in sorted(self._assigned)]
        if partitions:
            self._consumer.end_offsets(partitions, timeout_ms=int(timeout_s * 1000))

    @contextlib.contextmanager
    def in_rebalance(self) -> Iterator[None]:
        """Marks a rebalance callback: it runs on kafka-python's IO thread, which must not
        block on a request of its own."""
        self._rebalancing = True
        try:
            yield
        finally:
            self._rebalancing = False

    def partition_count(self) -> int | None:
        """Partitions of the topic. Outside a rebalance callback the client's metadata is
        asked (fetched when it does not know the topic); inside one the last count known
        is returned (None before the first): fetching there raises on Apache Kafka, whose
        metadata for the topic is often not cached yet at the first assignment."""
        if not self._rebalancing:
            found = self._consumer.partitions_for_topic(self.settings.topic)
            if found:
                self._partition_count = len(found)
        return self._partition_count

    def fetch(self, timeout_s: float) -> dict[TopicPartition, list[ConsumerRecord]]:
        """kafka-python's records as polled, by partition (rebalance callbacks run here)."""
        if not self._assigned:  # joining: see JOIN_POLL_S
            timeout_s = max(timeout_s, JOIN_POLL_S)
        batches: dict[TopicPartition, list[ConsumerRecord]] = self._consumer.poll(
            timeout_ms=int(timeout_s * 1000)
        )
        return batches

    def fetch_fields(self, timeout_s: float) -> dict[int, list[RecordFields]]:
        """The next records by partition, as plain fields (what the fetcher process sends)."""
        return {tp.partition: fields_of(rows) for tp, rows in self.fetch(timeout_s).items()}

    def poll(self, timeout_s: float) -> list[SourceRecord]:
        records: list[SourceRecord] = []
        for tp, rows in self.fetch(timeout_s).items():
            records += source_records(tp.topic, tp.partition, rows)
        return records

    def commit_async(self, offsets: dict[tuple[str, int], int]) -> None:
        """Report progress to the group coordinator (for lag tooling only)."""
        mine = {
            TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
            for (topic, partition), offset in offsets.items()
            if (topic, partition) in self._assigned
        }
        if mine:
            self._consumer.commit_async(mine, callback=_log_commit_failure)

    def highwaters(self) -> dict[int, int]:
        """Partition -> end offset, as last reported by fetches, for assigned partitions."""
        ends = {}
        for topic, partition in self._assigned:
            end = self._consumer.highwater(TopicPartition(topic, partition))
            if end is not None:
                ends[partition] = end
        return ends

    def lag(self, next_offsets: dict[tuple[str, int], int]) -> list[tuple[str, int, int]]:
        """(topic, partition, records behind the partition's end) for assigned partitions."""
        return lag_of(self.settings.topic, self.highwaters(), next_offsets)

    def close(self) -> None:
        self._consumer.close(autocommit=False)


CONSUMER_RECORD_FIELDS: Final = (
    "topic", "partition", "leader_epoch", "offset", "timestamp", "timestamp_type", "key",
    "value", "headers", "checksum", "serialized_key_size", "serialized_value_size",
    "serialized_header_size",
)  # fmt: skip
"""kafka-python's `ConsumerRecord` (3.x), read by position in `client_records`: one unpacking
a record instead of an attribute lookup per field (~0.5 µs less per event; checked here, at
import)."""
if ConsumerRecord._fields != CONSUMER_RECORD_FIELDS:
    raise ImportError(f"kafka-python's ConsumerRecord is not as expected: {ConsumerRecord._fields}")


def lag_of(
    topic: str, ends: dict[int, int], next_offsets: dict[tuple[str, int], int]
) -> list[tuple[str, int, int]]:
    """(topic, partition, records behind the end) where both end and position are known."""
    result = []
    for partition, end in sorted(ends.items()):
        position = next_offsets.get((topic, partition))
        if position is not None:
            result.append((topic, partition, max(0, end - position)))
    return result


def _log_commit_failure(offsets: object, response: object) -> None:
    if isinstance(response, Exception):
        log.debug("informational offset commit failed: %s", response)
