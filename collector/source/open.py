"""Which Kafka client a source uses: kafka-python (the default) or confluent-kafka."""

from __future__ import annotations

from typing import Protocol

from collector.source.client_records import RecordFields
from collector.source.kafka import (
    ConsumerSettings,
    KafkaSource,
    OnAssigned,
    OnRevoked,
)
from collector.source.records import SourceRecord

CLIENTS = ("kafka-python", "confluent")


class FetchingSource(Protocol):
    """What the fetcher process and the in-process pipeline ask of a Kafka source."""

    @property
    def assigned(self) -> frozenset[tuple[str, int]]: ...

    @property
    def settled(self) -> bool: ...

    def fetch_fields(self, timeout_s: float) -> dict[int, list[RecordFields]]: ...

    def poll(self, timeout_s: float) -> list[SourceRecord]: ...

    def seek(self, partition: int, offset: int | None) -> None: ...

    def pause(self, partitions: list[int]) -> None: ...

    def commit_async(self, offsets: dict[tuple[str, int], int]) -> None: ...

    def highwaters(self) -> dict[int, int]: ...

    def lag(self, next_offsets: dict[tuple[str, int], int]) -> list[tuple[str, int, int]]: ...

    def partition_count(self) -> int | None: ...

    def probe(self, timeout_s: float = 2.0) -> None: ...

    def close(self) -> None: ...


def open_source(
    settings: ConsumerSettings, on_assigned: OnAssigned, on_revoked: OnRevoked
) -> FetchingSource:
    """The consumer of `settings.client`; confluent-kafka is imported only when chosen."""
    if settings.client == "confluent":
        from collector.source.confluent import ConfluentSource

        return ConfluentSource(settings, on_assigned, on_revoked)
    if settings.client != "kafka-python":
        raise ValueError(f"unknown Kafka client {settings.client!r}: one of {', '.join(CLIENTS)}")
    return KafkaSource(settings, on_assigned, on_revoked)
