"""In-memory doubles for the pipeline's seams (source, dead letters)."""

from __future__ import annotations

import marshal

from collector.source.client_records import RecordFields
from collector.source.fetcher import row_of
from collector.source.process import records_of
from collector.source.records import SourceRecord
from collector.state.model import TopicPartitionKey
from schemas.binding import KafkaRecord
from schemas.envelope import EventError


class MemorySource:
    """Serves queued batches; `assigned` is every partition it has served."""

    def __init__(self, topic: str = "events") -> None:
        self.topic = topic
        self.batches: list[list[SourceRecord]] = []
        self.committed: dict[TopicPartitionKey, int] = {}
        self._next: dict[int, int] = {}
        self._assigned: frozenset[TopicPartitionKey] = frozenset({(topic, 0)})
        self.seeks: list[tuple[int, int | None]] = []
        self.paused: list[int] = []

    @property
    def assigned(self) -> frozenset[TopicPartitionKey]:
        return self._assigned

    @property
    def settled(self) -> bool:
        """No rebalance: what it serves is assigned for good."""
        return True

    def add(
        self, records: list[KafkaRecord], partition: int = 0, *, decoded_by_fetcher: bool = False
    ) -> list[SourceRecord]:
        """Queue `records` as one batch; `decoded_by_fetcher`: as the fetcher process sends
        them when it decodes them (`fetcher.row_of`, marshalled, `process.records_of`)."""
        batch = []
        for record in records:
            offset = self._next.get(partition, 0)
            self._next[partition] = offset + 1
            size = len(record.key or b"") + len(record.value or b"")
            size += sum(len(name.encode()) + len(raw or b"") for name, raw in record.headers)
            headers: list[tuple[str, bytes | None]] = list(record.headers)
            fields: RecordFields = (offset, record.key, headers, record.value, 0, size)
            if decoded_by_fetcher:
                rows = marshal.loads(marshal.dumps([row_of(fields, decode=True)]))
                batch += records_of(self.topic, partition, rows)
            else:
                batch.append(SourceRecord(self.topic, partition, *fields))
        self.batches.append(batch)
        return batch

    def poll(self, timeout_s: float) -> list[SourceRecord]:
        return self.batches.pop(0) if self.batches else []

    def commit_async(self, offsets: dict[TopicPartitionKey, int]) -> None:
        self.committed.update(offsets)

    def seek(self, partition: int, offset: int | None) -> None:
        self.seeks.append((partition, offset))

    def pause(self, partitions: list[int]) -> None:
        self.paused.extend(partitions)

    def partition_count(self) -> int | None:
        return None

    def probe(self, timeout_s: float = 2.0) -> None:
        pass

    def lag(self, next_offsets: dict[TopicPartitionKey, int]) -> list[tuple[str, int, int]]:
        return [
            (self.topic, p, end - next_offsets.get((self.topic, p), 0))
            for p, end in sorted(self._next.items())
        ]


class MemoryDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[SourceRecord, EventError]] = []
        self.forwarded: list[tuple[str, KafkaRecord]] = []

    def forward(self, topic: str, records: list[KafkaRecord]) -> None:
        self.forwarded.extend((topic, record) for record in records)

    def send_all(self, rejected: list[tuple[SourceRecord, EventError]]) -> None:
        self.sent.extend(rejected)
