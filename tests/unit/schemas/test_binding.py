from __future__ import annotations

import json

import pytest
from cloudevents.v1.http import CloudEvent
from cloudevents.v1.kafka import to_binary as sdk_to_binary
from cloudevents.v1.kafka import to_structured as sdk_to_structured

from schemas.binding import from_record, to_binary, to_structured, to_structured_dict
from schemas.envelope import EventError, Reason
from schemas.events import EventType
from tests.support.events import data_dict, make_event
from tests.support.live import as_bytes


def test_binary_round_trip() -> None:
    event = make_event(cost=0.1)
    record = to_binary(event)
    assert record.key == b"ticket-triage"
    assert dict(record.headers)["ce_type"] == b"outcomes.run.finished"
    assert from_record(record.key, record.headers, record.value) == event


def test_structured_round_trip() -> None:
    event = make_event(EventType.SAVINGS_REALIZED)
    record = to_structured(event)
    assert dict(record.headers)["content-type"] == b"application/cloudevents+json"
    assert from_record(record.key, record.headers, record.value) == event


def test_plain_json_without_headers_reads_as_structured() -> None:
    event = make_event()
    value = json.dumps(to_structured_dict(event)).encode()
    assert from_record(b"ticket-triage", [], value) == event


def _sdk_event() -> CloudEvent:
    return CloudEvent(
        {
            "type": "outcomes.run.finished",
            "source": "sdk",
            "id": "sdk-1",
            "time": "2026-11-15T12:00:00+00:00",
            "partitionkey": "ticket-triage",
            "datacontenttype": "application/json",
        },
        data_dict(EventType.RUN_FINISHED),
    )


def test_official_sdk_binary_mode_is_understood() -> None:
    message = sdk_to_binary(_sdk_event())
    event = from_record(
        str(message.key).encode(), list(message.headers.items()), as_bytes(message.value)
    )
    assert (event.source, event.id, event.project) == ("sdk", "sdk-1", "ticket-triage")


def test_official_sdk_structured_mode_is_understood() -> None:
    message = sdk_to_structured(_sdk_event())
    event = from_record(
        str(message.key).encode(), list(message.headers.items()), as_bytes(message.value)
    )
    assert event.data.model_dump() == make_event(event_id="x").data.model_dump()


@pytest.mark.parametrize(
    ("headers", "value", "reason", "message"),
    [
        (
            [("content-type", b"application/cloudevents+json")],
            b"{nope",
            Reason.MALFORMED,
            "not JSON",
        ),
        ([("content-type", b"application/cloudevents+json")], b"[1]", Reason.MALFORMED, "object"),
        ([], b"", Reason.MALFORMED, "empty"),
        ([], b"\xff\xfe", Reason.MALFORMED, "not JSON"),
        ([("content-type", b"text/plain")], b"hello", Reason.MALFORMED, "not a CloudEvent"),
        (
            [("content-type", b"application/cloudevents+avro")],
            b"x",
            Reason.MALFORMED,
            "unsupported",
        ),
        ([("ce_specversion", b"\xff")], b"{}", Reason.MALFORMED, "UTF-8"),
        ([("ce_specversion", b"1.0")], b"[", Reason.MALFORMED, "not JSON"),
        ([], b"[" * 100_000, Reason.MALFORMED, "nests too deeply"),
        ([("content-type", b"application/json")], b'{"a": 1}', Reason.MALFORMED, "no specversion"),
    ],
)
def test_malformed_records(
    headers: list[tuple[str, bytes]], value: bytes, reason: Reason, message: str
) -> None:
    with pytest.raises(EventError, match=message) as caught:
        from_record(b"ticket-triage", headers, value)
    assert caught.value.reason is reason


def test_binary_with_non_json_content_type_is_invalid() -> None:
    record = to_binary(make_event())
    headers = [(n, v) for n, v in record.headers if n != "content-type"]
    headers.append(("content-type", b"application/xml"))
    with pytest.raises(EventError, match="datacontenttype") as caught:
        from_record(record.key, headers, record.value)
    assert caught.value.reason is Reason.INVALID


def test_data_base64_is_refused() -> None:
    document = to_structured_dict(make_event())
    document["data_base64"] = "e30="
    del document["data"]
    with pytest.raises(EventError, match="data_base64"):
        from_record(b"ticket-triage", [], json.dumps(document).encode())


@pytest.mark.parametrize("key", [None, b"other-project"])
def test_key_must_be_the_project(key: bytes | None) -> None:
    record = to_binary(make_event())
    with pytest.raises(EventError, match="record key") as caught:
        from_record(key, record.headers, record.value)
    assert caught.value.reason is Reason.INVALID
