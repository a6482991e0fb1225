"""The Kafka clients' records as the pipeline's, one per consumed record: compiled with the
pipeline (setup.py), as this runs once per event on the ingest thread. Measured on 10,000
mixed records (2026-12-07): kafka-python's 0.42–0.46 µs a record in Python, 0.28–0.32
compiled; confluent-kafka's 1.9–2.0 µs in Python (two passes then), 1.0–1.4 compiled in
one, which is mostly the `Message` methods' own cost.

Nothing here imports a client: kafka-python's `ConsumerRecord` is read as the tuple it is
(by position: `kafka.CONSUMER_RECORD_FIELDS`, checked where kafka-python is imported), and
confluent-kafka's `Message` (an optional extra) through its methods, so this module
compiles and loads with either missing.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any, Final

from collector.source.records import SourceRecord

_new: Final = tuple.__new__
_RECORD: Final = SourceRecord
"""(`Final`: mypyc keeps these in C, and looks any other global up in the module's dict)"""
if SourceRecord._fields[8:] != ("event", "event_s", "raw"):
    raise ImportError(f"the records here are made without SourceRecord{SourceRecord._fields}")

RecordFields = tuple[int, bytes | None, list[tuple[str, bytes | None]], bytes | None, int, int]
"""(offset, key, headers, value, timestamp ms, size): a `SourceRecord` without its topic
and partition, in plain values (what the fetcher process sends)."""


# -- kafka-python ------------------------------------------------------------------------


def fields_of(rows: list[Any]) -> list[RecordFields]:
    """kafka-python's records (`ConsumerRecord`) of one partition as plain fields
    (`RecordFields`), as the fetcher process sends them."""
    found: list[RecordFields] = []
    for record in rows:
        _, _, _, offset, timestamp, _, key, value, headers, _, k_size, v_size, h_size = record
        size = _measured(k_size, v_size, h_size)
        found.append((offset, key, headers or [], value, timestamp or 0, size))
    return found


def source_records(topic: str, partition: int, rows: list[Any]) -> list[SourceRecord]:
    """kafka-python's records (`ConsumerRecord`) of one partition as the pipeline's, in one
    pass: one tuple a record, made without `SourceRecord.__new__` and its defaults (a third
    of the cost), so every field is given here: a new field of `SourceRecord` must be added
    (the source tests compare whole records)."""
    found: list[SourceRecord] = []
    for record in rows:
        _, _, _, offset, timestamp, _, key, value, headers, _, k_size, v_size, h_size = record
        size = _measured(k_size, v_size, h_size)
        fields = (
            topic, partition, offset, key, headers or [], value, timestamp or 0, size,
            None, None, None,
        )  # fmt: skip
        found.append(_new(_RECORD, fields))
    return found


def _measured(key_size: int, value_size: int, header_size: int) -> int:
    """What kafka-python measured of key, value and headers (-1 for an absent part)."""
    size = key_size if key_size > 0 else 0
    size += value_size if value_size > 0 else 0
    return size + header_size if header_size > 0 else size


# -- confluent-kafka ---------------------------------------------------------------------


def message_fields(message: Any) -> RecordFields:
    """(offset, key, headers, value, timestamp ms, size) of a record, as kafka-python's are
    given (`fields_of`): the size counts key, value and each header's name (UTF-8
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
    Made without `SourceRecord.__new__`, as `source_records`: every field is given."""
    records: list[SourceRecord] = []
    errors: list[Any] = []
    for message in messages:
        if message.error() is not None:
            errors.append(message)
            continue
        partition: int = message.partition()
        if partition in held_back:
            continue
        offset, key, headers, value, timestamp, size = message_fields(message)
        fields = (topic, partition, offset, key, headers, value, timestamp, size, None, None, None)
        records.append(_new(_RECORD, fields))
    return records, errors
