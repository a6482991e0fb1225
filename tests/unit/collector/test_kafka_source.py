"""KafkaSource.poll around kafka-python: the join workaround and record conversion."""

from __future__ import annotations

from typing import Any

from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import TopicPartition

from collector.source.client_records import fields_of
from collector.source.kafka import JOIN_POLL_S, KafkaSource
from collector.source.records import SourceRecord


class RecordingConsumer:
    def __init__(self, batches: dict[TopicPartition, list[Any]]) -> None:
        self.batches = batches
        self.timeouts_ms: list[int] = []

    def poll(self, timeout_ms: int) -> dict[TopicPartition, list[Any]]:
        self.timeouts_ms.append(timeout_ms)
        return self.batches


def source_over(consumer: RecordingConsumer, assigned: frozenset[tuple[str, int]]) -> KafkaSource:
    source = KafkaSource.__new__(KafkaSource)  # no broker: only poll is exercised
    source._consumer = consumer
    source._assigned = assigned
    return source


def test_a_joining_consumer_polls_past_the_brokers_join_delay() -> None:
    consumer = RecordingConsumer({})
    joining = source_over(consumer, frozenset())
    joining.poll(0.2)
    source_over(consumer, frozenset({("events", 0)})).poll(0.2)
    assert consumer.timeouts_ms == [int(JOIN_POLL_S * 1000), 200]
    assert JOIN_POLL_S > 3.0  # Kafka's group.initial.rebalance.delay.ms default


def test_records_carry_the_size_kafka_python_measured() -> None:
    record = ConsumerRecord(
        "events", 2, 0, 41, 1_700_000_000_000, 0, b"ticket-triage", b"{}",
        [("ce_id", b"1")], None, 13, 2, 6,
    )  # fmt: skip
    tp = TopicPartition("events", 2)
    (converted,) = source_over(RecordingConsumer({tp: [record]}), frozenset()).poll(0.2)
    assert (converted.partition, converted.offset, converted.key) == (2, 41, b"ticket-triage")
    assert list(converted.headers) == [("ce_id", b"1")]
    assert converted.size == 13 + 2 + 6


def test_absent_parts_count_nothing_and_records_are_whole_source_records() -> None:
    """Read by position (kafka-python's field order): a record without key, headers or
    timestamp, beside one with all of them, as the pipeline's records and as the rows the
    fetcher process sends."""
    bare = ConsumerRecord("events", 4, 0, 7, None, 0, None, b'{"a":1}', None, None, -1, 7, -1)
    full = ConsumerRecord(
        "events", 4, 3, 8, 1_700_000_000_123, 0, b"p", b"{}", [("ce_id", b"9")], None, 1, 2, 6
    )
    tp = TopicPartition("events", 4)
    records = source_over(RecordingConsumer({tp: [bare, full]}), frozenset()).poll(0.2)
    assert records == [
        SourceRecord("events", 4, 7, None, [], b'{"a":1}', 0, 7),
        SourceRecord("events", 4, 8, b"p", [("ce_id", b"9")], b"{}", 1_700_000_000_123, 9),
    ]
    assert [(r.event, r.raw) for r in records] == [(None, None), (None, None)]
    assert fields_of([bare, full]) == [record[2:8] for record in records]
