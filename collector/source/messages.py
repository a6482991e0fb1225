"""confluent-kafka's messages as the pipeline's records, in one pass (compiled with the
pipeline: `source: confluent` spends ~2 µs a record in librdkafka, and this conversion
was a third of that again in Python).

Nothing here imports confluent-kafka (an optional extra): a message is read through the
methods of its `Message` (`key()`, `value()`, `headers()`, `offset()`, `partition()`,
`timestamp()`, `error()`), so this module compiles and loads without it.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from collector.source.records import SourceRecord

_new = tuple.__new__


def message_fields(message: Any) -> tuple[int, bytes | None, Any, bytes | None, int, int]:
    """(offset, key, headers, value, timestamp ms, size) of a record, as kafka-python's are
    given (`kafka.fields_of`): the size counts key, value and each header's name (UTF-8
    bytes) and value."""
    key: bytes | None = message.key()
    value: bytes | None = message.value()
    headers: list[tuple[str, bytes | None]] = message.headers() or []
    timestamp: int = message.timestamp()[1]
    offset: int = message.offset()
    return (
        offset,
        key,
        headers,
        value,
        timestamp if timestamp > 0 else 0,
        _size(key, headers, value),
    )


def _size(key: bytes | None, headers: list[tuple[str, bytes | None]], value: bytes | None) -> int:
    size = (len(key) if key else 0) + (len(value) if value else 0)
    for name, raw in headers:
        size += (len(name) if name.isascii() else len(name.encode())) + (len(raw) if raw else 0)
    return size


def records_of_messages(
    topic: str, messages: list[Any], held_back: Container[int]
) -> tuple[list[SourceRecord], list[Any]]:
    """The records of a `consume` call in the order consumed, and the messages that carry
    an error instead (the caller decides: end of a partition, or a failure). Records of a
    partition in `held_back` (fetched from before a seek still to be made) are left out.
    Made without `SourceRecord.__new__` (as `records.records_from`): every field is given."""
    records: list[SourceRecord] = []
    errors: list[Any] = []
    for message in messages:
        if message.error() is not None:
            errors.append(message)
            continue
        partition: int = message.partition()
        if partition in held_back:
            continue
        key: bytes | None = message.key()
        value: bytes | None = message.value()
        headers: list[tuple[str, bytes | None]] = message.headers() or []
        timestamp: int = message.timestamp()[1]
        fields = (
            topic,
            partition,
            message.offset(),
            key,
            headers,
            value,
            timestamp if timestamp > 0 else 0,
            _size(key, headers, value),
            None,
            None,
        )
        records.append(_new(SourceRecord, fields))
    return records, errors
