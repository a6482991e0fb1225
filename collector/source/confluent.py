"""Kafka source on confluent-kafka (librdkafka): `source: confluent`, extra `fast`.

The same contract as `collector.source.kafka` (kafka-python, the default): one consumer
group, no auto-commit, offsets owned by the state store. On assignment each partition is
assigned at the offset the store holds (or its beginning), inside the rebalance callback,
so what is consumed next is exactly what the stored state has not seen; a revocation is
handed to the collector before the partitions go. Kafka offset commits are informational.

librdkafka parses record batches in C: a consumer spends ~2 µs per record instead of
kafka-python's ~13 (docs/PERFORMANCE.md), for replays and big backfills.

Threading: every method from the one thread that owns the consumer; rebalance callbacks
run inside `consume`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any, Final

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from collector.source.client_records import RecordFields, message_fields, records_of_messages
from collector.source.kafka import (
    ConsumerSettings,
    OnAssigned,
    OnRevoked,
    check_reachable,
    lag_of,
)
from collector.source.records import SourceRecord

log = logging.getLogger(__name__)

METADATA_TTL_S: Final = 30.0
"""How long the partition count of the topic is trusted before it is asked again."""

_SECURITY: Final = {
    "security_protocol": "security.protocol",
    "sasl_mechanism": "sasl.mechanism",
    "sasl_plain_username": "sasl.username",
    "sasl_plain_password": "sasl.password",
    "ssl_cafile": "ssl.ca.location",
    "ssl_certfile": "ssl.certificate.location",
    "ssl_keyfile": "ssl.key.location",
}


def librdkafka_security(options: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """The kafka-python transport settings (`KafkaSecurity.client_options`) in librdkafka's
    names."""
    config: dict[str, Any] = {}
    for name, value in options:
        if name == "ssl_check_hostname":
            config["ssl.endpoint.identification.algorithm"] = "https" if value else "none"
        elif name in _SECURITY:
            config[_SECURITY[name]] = value
        else:
            raise ValueError(f"no librdkafka equivalent for the Kafka setting {name!r}")
    return config


def _check(error: KafkaError) -> None:
    """A message's error: the end of a partition is none (`enable.partition.eof`)."""
    if error.code() != KafkaError._PARTITION_EOF:
        raise KafkaException(error)


class ConfluentSource:
    """Polls records for the pipeline and positions partitions from stored offsets."""

    def __init__(
        self, settings: ConsumerSettings, on_assigned: OnAssigned, on_revoked: OnRevoked
    ) -> None:
        self.settings = settings
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked
        check_reachable(settings.bootstrap_servers)
        self._consumer = Consumer(
            {
                "bootstrap.servers": settings.bootstrap_servers,
                "group.id": settings.group_id,
                "client.id": settings.client_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": settings.session_timeout_ms,
                "heartbeat.interval.ms": settings.heartbeat_interval_ms,
                "max.poll.interval.ms": settings.max_poll_interval_ms,
                "fetch.wait.max.ms": settings.fetch_max_wait_ms,
                "enable.partition.eof": False,
                **librdkafka_security(settings.security),
            },
            logger=log,
        )
        self._assigned: frozenset[tuple[str, int]] = frozenset()
        self._pending_seeks: dict[int, int | None] = {}
        """Seeks librdkafka refused (a partition not fetched yet): retried before each
        fetch; records of those partitions are dropped meanwhile."""
        self._partition_count: int | None = None
        self._counted_at = 0.0
        self._rebalancing = False
        self._settled = False
        self._consumer.subscribe(
            [settings.topic],
            on_assign=self._assign,
            on_revoke=self._revoke,
            on_lost=self._revoke,
        )

    @property
    def assigned(self) -> frozenset[tuple[str, int]]:
        return self._assigned

    @property
    def settled(self) -> bool:
        """Whether its latest rebalance has ended: an assignment (an empty one too) came
        after the last revocation. False before the first."""
        return self._settled

    # -- rebalance callbacks (inside `consume`) ----------------------------------------

    @contextlib.contextmanager
    def _in_rebalance(self) -> Iterator[None]:
        self._rebalancing = True
        try:
            yield
        finally:
            self._rebalancing = False

    def _assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Claim and load the new partitions (pipeline), then assign them at the stored
        offsets."""
        with self._in_rebalance():
            topic = self.settings.topic
            mine = sorted(tp.partition for tp in partitions if tp.topic == topic)
            self._assigned = frozenset((tp.topic, tp.partition) for tp in partitions)
            offsets = self._on_assigned(topic, mine) if mine else {}
            for tp in partitions:
                stored = offsets.get(tp.partition) if tp.topic == topic else None
                tp.offset = OFFSET_BEGINNING if stored is None else stored
                self._pending_seeks.pop(tp.partition, None)
            consumer.assign(partitions)
            self._settled = True
            log.info("assigned partitions %s", mine)

    def _revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        with self._in_rebalance():
            topic = self.settings.topic
            gone = sorted(tp.partition for tp in partitions if tp.topic == topic)
            self._settled = False
            self._assigned = self._assigned - {(topic, p) for p in gone}
            for partition in gone:
                self._pending_seeks.pop(partition, None)
            if gone:
                self._on_revoked(topic, gone)
                log.info("revoked partitions %s", gone)
            consumer.unassign()

    # -- positioning -------------------------------------------------------------------

    def seek(self, partition: int, offset: int | None) -> None:
        """Position `partition`; a seek librdkafka cannot make yet (the partition was just
        assigned) is retried before each fetch, and its records are held back until then."""
        self._pending_seeks[partition] = offset
        self._retry_seeks()

    def _retry_seeks(self) -> None:
        topic = self.settings.topic
        for partition, offset in list(self._pending_seeks.items()):
            if (topic, partition) not in self._assigned:
                del self._pending_seeks[partition]  # no longer ours: nothing to position
                continue
            target = OFFSET_BEGINNING if offset is None else offset
            try:
                self._consumer.seek(TopicPartition(topic, partition, target))
            except KafkaException as error:
                log.debug("seek of partition %d deferred: %s", partition, error)
                continue
            del self._pending_seeks[partition]

    def pause(self, partitions: list[int]) -> None:
        """Stop fetching `partitions` (fenced) until the group takes them away."""
        topic = self.settings.topic
        held = [TopicPartition(topic, p) for p in partitions if (topic, p) in self._assigned]
        if held:
            self._consumer.pause(held)

    # -- fetching ----------------------------------------------------------------------

    def fetch_fields(self, timeout_s: float) -> dict[int, list[RecordFields]]:
        """The next records by partition, as plain fields (rebalance callbacks run here)."""
        if self._pending_seeks:
            self._retry_seeks()
        messages = self._consumer.consume(
            num_messages=self.settings.max_poll_records, timeout=timeout_s
        )
        batches: dict[int, list[RecordFields]] = {}
        held_back = self._pending_seeks
        for message in messages:
            error = message.error()
            if error is not None:
                _check(error)
                continue
            partition: int = message.partition()  # type: ignore[assignment]
            if partition in held_back:
                continue  # fetched from before a seek that is still to be made
            batch = batches.get(partition)
            if batch is None:
                batch = batches[partition] = []
            batch.append(message_fields(message))
        return batches

    def poll(self, timeout_s: float) -> list[SourceRecord]:
        """The next records, in the order consumed (rebalance callbacks run here)."""
        if self._pending_seeks:
            self._retry_seeks()
        messages = self._consumer.consume(
            num_messages=self.settings.max_poll_records, timeout=timeout_s
        )
        records, errors = records_of_messages(self.settings.topic, messages, self._pending_seeks)
        for message in errors:
            _check(message.error())
        return records

    # -- progress and health -----------------------------------------------------------

    def commit_async(self, offsets: dict[tuple[str, int], int]) -> None:
        """Report progress to the group coordinator (for lag tooling only)."""
        mine = [
            TopicPartition(topic, partition, offset)
            for (topic, partition), offset in offsets.items()
            if (topic, partition) in self._assigned
        ]
        if mine:
            try:
                self._consumer.commit(offsets=mine, asynchronous=True)
            except KafkaException as error:
                log.debug("informational offset commit failed: %s", error)

    def highwaters(self) -> dict[int, int]:
        """Partition -> end offset, as last reported by fetches, for assigned partitions."""
        ends = {}
        for topic, partition in self._assigned:
            _, high = self._consumer.get_watermark_offsets(
                TopicPartition(topic, partition), cached=True
            )
            if high >= 0:
                ends[partition] = high
        return ends

    def lag(self, next_offsets: dict[tuple[str, int], int]) -> list[tuple[str, int, int]]:
        return lag_of(self.settings.topic, self.highwaters(), next_offsets)

    def partition_count(self) -> int | None:
        """Partitions of the topic, asked at most every METADATA_TTL_S (never inside a
        rebalance callback: the last count known there)."""
        now = time.monotonic()
        if self._rebalancing or now - self._counted_at < METADATA_TTL_S:
            return self._partition_count
        self._counted_at = now
        topic = self.settings.topic
        try:
            found = self._consumer.list_topics(topic, timeout=5.0).topics.get(topic)
        except KafkaException as error:
            log.debug("no metadata for %s: %s", topic, error)
            return self._partition_count
        if found is not None and found.error is None and found.partitions:
            self._partition_count = len(found.partitions)
        return self._partition_count

    def probe(self, timeout_s: float = 2.0) -> None:
        """A real round trip to the broker (the end offset of an assigned partition)."""
        for topic, partition in sorted(self._assigned)[:1]:
            self._consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout_s, cached=False
            )

    def close(self) -> None:
        self._consumer.close()
