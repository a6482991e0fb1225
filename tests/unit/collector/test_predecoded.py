"""Events decoded in the fetcher process arrive in the collector as the decoder made them."""

from __future__ import annotations

import marshal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.source.client_records import RecordFields
from collector.source.fetcher import row_of
from collector.source.predecoded import (
    MAX_PREDECODED_BYTES,
    RAW_ONLY,
    DecodeShare,
    Packed,
    predecode,
    unpack,
)
from collector.source.process import records_of
from schemas.binding import KafkaRecord, from_record, from_record_timed, to_binary, to_structured
from schemas.envelope import OutcomeEvent
from schemas.events import EventType
from schemas.fast_path import Timed
from tests.support.events import make_event
from tests.unit.schemas.test_binary_fast_path import assert_seconds_of, binary_records
from tests.unit.schemas.test_structured_fast_path import structured_records

Headers = list[tuple[str, bytes | None]]


def across_the_pipe(packed: Packed) -> OutcomeEvent:
    """As the fetcher sends it and the collector receives it."""
    return timed_across_the_pipe(packed)[0]


def timed_across_the_pipe(packed: Packed) -> Timed:
    received: Packed = marshal.loads(marshal.dumps(packed))
    return unpack(received)


def assert_same(received: OutcomeEvent, decoded: OutcomeEvent) -> None:
    assert received == decoded
    assert type(received.data) is type(decoded.data)
    assert received.data.__dict__ == decoded.data.__dict__
    assert received.data.__pydantic_fields_set__ == decoded.data.__pydantic_fields_set__
    assert received.data.model_dump_json() == decoded.data.model_dump_json()
    assert received.time.isoformat() == decoded.time.isoformat()
    assert received.type is decoded.type


def decoded_or_none(key: bytes | None, headers: Headers, value: bytes) -> OutcomeEvent | None:
    try:
        return from_record(key, headers, value)
    except Exception:  # noqa: BLE001 - any refusal
        return None


@settings(max_examples=400, deadline=None)
@given(st.one_of(binary_records(), structured_records()))
def test_what_the_fetcher_decodes_is_what_the_collector_would_decode(
    case: tuple[bytes | None, Headers, bytes],
) -> None:
    key, headers, value = case
    decoded = decoded_or_none(key, headers, value)
    packed = predecode(key, headers, value)
    if decoded is None or decoded.type in RAW_ONLY:
        assert packed is None  # the collector decodes it (and says why it is refused)
        return
    assert packed is not None
    event, seconds = timed_across_the_pipe(packed)
    assert_same(event, decoded)
    assert seconds == from_record_timed(key, headers, value)[1]  # the decoder's, if any
    assert_seconds_of(event.time, seconds, fast=False)


def test_every_event_type_and_both_modes_round_trip() -> None:
    events = [make_event(kind) for kind in EventType if kind not in RAW_ONLY]
    events.append(make_event(links=["https://ci.example/run/1"], currency="USD"))
    for event in events:
        for record in (to_binary(event), to_structured(event)):
            packed = predecode(record.key, record.headers, record.value)
            assert packed is not None, event.type
            received, seconds = timed_across_the_pipe(packed)
            assert_same(received, from_record(record.key, record.headers, record.value))
            assert_seconds_of(received.time, seconds)


def test_history_keeps_its_mark() -> None:
    event = make_event()._replace(backfill=True)
    record = to_binary(event)
    packed = predecode(record.key, record.headers, record.value)
    assert packed is not None
    assert across_the_pipe(packed).backfill is True


def test_large_and_invalid_records_travel_raw() -> None:
    record = to_structured(make_event())
    padded = record.value[:-1] + b', "extension": "' + b"x" * MAX_PREDECODED_BYTES + b'"}'
    assert from_record(record.key, record.headers, padded) is not None  # valid, just large
    assert predecode(record.key, record.headers, padded) is None
    assert predecode(record.key, record.headers, b"{oops") is None
    assert predecode(b"another-project", record.headers, record.value) is None


def test_the_decoded_share_is_spread_evenly_and_follows_the_balance() -> None:
    share = DecodeShare(share=0.5)
    assert [share.take() for _ in range(6)] == [False, True, False, True, False, True]
    for _ in range(3):
        share.observe(collector_behind=True)
    assert share.share == pytest.approx(0.8)
    assert abs(sum(share.take() for _ in range(100)) - 80) <= 1
    for _ in range(20):
        share.observe(collector_behind=False)
    assert share.share == 0.0
    assert not any(share.take() for _ in range(100))
    for _ in range(20):
        share.observe(collector_behind=True)
    assert share.share == 1.0
    assert all(share.take() for _ in range(100))


def test_a_record_travels_whole_beside_its_event_and_raw_without_one() -> None:
    event = make_event()
    valid = to_binary(event)
    invalid = KafkaRecord(valid.key, valid.headers, b"{oops")
    for record, decode in ((valid, True), (valid, False), (invalid, True)):
        headers: list[tuple[str, bytes | None]] = list(record.headers)
        fields: RecordFields = (7, record.key, headers, record.value, 1_700_000_000_000, 321)
        [received] = records_of("t", 2, marshal.loads(marshal.dumps([row_of(fields, decode)])))
        assert (received.topic, received.partition, received.offset) == ("t", 2, 7)
        assert (received.timestamp_ms, received.size) == (1_700_000_000_000, 321)
        whole = received.restored()
        assert (whole.key, list(whole.headers), whole.value) == (
            record.key, list(record.headers), record.value,
        )  # fmt: skip
        assert whole.raw is None and whole.event == received.event
        if record is valid and decode:
            assert received.raw is not None and received.value is None
            assert received.event is not None
            assert_same(received.event, from_record(record.key, record.headers, record.value))
            assert_seconds_of(received.event.time, received.event_s)
        else:
            assert received.event is None and received.restored() is received
