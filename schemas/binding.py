"""CloudEvents Kafka protocol binding: records <-> `OutcomeEvent` (docs/REFERENCE.md#events).

Both content modes are understood:

* **structured** — header `content-type: application/cloudevents+json`, value = the
  whole event as JSON;
* **binary** — attributes in `ce_<name>` headers, `content-type: application/json`,
  value = `data`.

A record without a `ce_specversion` header whose content-type is absent or JSON is read
as structured when its value is a JSON object with `specversion`: plain CloudEvents
JSON without headers is common, and the official Python SDK's structured mode sends
`content-type: application/json`.
The record key is the project (`partitionkey`). Pure functions, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from schemas.envelope import EventError, OutcomeEvent, Reason, parse_event
from schemas.fast_path import Timed, binary_envelope_of, from_binary, from_structured

Headers = Sequence[tuple[str, bytes | None]]

STRUCTURED_CONTENT_TYPE: Final = "application/cloudevents+json"
JSON_CONTENT_TYPE: Final = "application/json"
_CE_PREFIX: Final = "ce_"


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """What a producer sends: key (the project), headers and value bytes."""

    key: bytes
    headers: list[tuple[str, bytes]]
    value: bytes


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, microseconds only when present."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


BACKFILL_EXTENSION: Final = "outcomesbackfill"


def event_attributes(event: OutcomeEvent) -> dict[str, str]:
    attributes = {
        "specversion": "1.0",
        "id": event.id,
        "source": event.source,
        "type": event.type.value,
        "time": format_time(event.time),
    }
    if event.backfill:
        attributes[BACKFILL_EXTENSION] = "true"
    return attributes


def event_data(event: OutcomeEvent) -> dict[str, Any]:
    return event.data.model_dump(mode="json", exclude_none=True)


def to_structured_dict(event: OutcomeEvent) -> dict[str, Any]:
    """The event as a structured-mode CloudEvent JSON object (a JSON boolean for the
    backfill extension)."""
    attributes: dict[str, Any] = event_attributes(event)
    if event.backfill:
        attributes[BACKFILL_EXTENSION] = True
    return {
        **attributes,
        "datacontenttype": JSON_CONTENT_TYPE,
        "partitionkey": event.project,
        "data": event_data(event),
    }


def to_binary(event: OutcomeEvent) -> KafkaRecord:
    headers = [
        (_CE_PREFIX + name, value.encode()) for name, value in event_attributes(event).items()
    ]
    headers.append(("content-type", JSON_CONTENT_TYPE.encode()))
    value = json.dumps(event_data(event), separators=(",", ":")).encode()
    return KafkaRecord(event.project.encode(), headers, value)


def to_structured(event: OutcomeEvent) -> KafkaRecord:
    value = json.dumps(to_structured_dict(event), separators=(",", ":")).encode()
    headers = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]
    return KafkaRecord(event.project.encode(), headers, value)


def from_record(key: bytes | None, headers: Headers, value: bytes | None) -> OutcomeEvent:
    """Decode and validate one Kafka record.

    Raises `EventError` with reason malformed, invalid or unknown_type. The record
    key must be the event's project so that a project lives on exactly one partition.
    """
    return from_record_timed(key, headers, value)[0]


def from_record_timed(key: bytes | None, headers: Headers, value: bytes | None) -> Timed:
    """`from_record`, with the event time in epoch seconds when the fast path computed it
    (exactly `event.time.timestamp()`; None: not computed)."""
    if not headers or (len(headers) == 1 and headers[0][0] == "content-type"):
        # the headers of structured mode: no binary-mode envelope can be among them
        timed = from_structured(key, headers, value)
    else:
        fields = binary_envelope_of(headers)
        timed = None if fields is None else from_binary(fields, key, value)
    return timed if timed is not None else (general_from_record(key, headers, value), None)


def general_from_record(key: bytes | None, headers: Headers, value: bytes | None) -> OutcomeEvent:
    """`from_record` for every input, without the fast path (which agrees with it)."""
    header_map = _header_map(headers)
    content_type = _media_type(header_map.get("content-type"))
    if content_type is not None and content_type.startswith("application/cloudevents"):
        attributes, data = _structured(value, content_type)
    elif "ce_specversion" in header_map:
        attributes = _binary_attributes(header_map, content_type)
        data = _parse_json(value, "data")
    elif content_type is None or _is_json(content_type):
        attributes, data = _structured(value, STRUCTURED_CONTENT_TYPE)
        if "specversion" not in attributes:
            raise EventError(
                Reason.MALFORMED,
                "not a CloudEvent: no ce_specversion header and no specversion in the value",
            )
    else:
        raise EventError(
            Reason.MALFORMED,
            f"not a CloudEvent: content-type {content_type!r} without ce_specversion header",
        )
    event = parse_event(attributes, data)
    _check_key(key, event)
    return event


def _header_map(headers: Headers) -> dict[str, str]:
    """`content-type` and the `ce_*` headers (names lowercased), decoded as UTF-8."""
    result: dict[str, str] = {}
    for name, raw in headers:
        lowered = name.lower()
        if lowered[:3] != _CE_PREFIX and lowered != "content-type":
            continue
        try:
            result[lowered] = (raw or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise EventError(Reason.MALFORMED, f"header {name!r} is not UTF-8") from None
    return result


def _media_type(header: str | None) -> str | None:
    if header is None:
        return None
    return header.split(";", 1)[0].strip().lower() or None


def _parse_json(value: bytes | None, what: str) -> Any:
    if not value:
        raise EventError(Reason.MALFORMED, f"{what} is empty")
    try:
        return json.loads(value)
    except UnicodeDecodeError:
        raise EventError(Reason.MALFORMED, f"{what} is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise EventError(Reason.MALFORMED, f"{what} is not JSON: {error}") from None
    except RecursionError:
        raise EventError(Reason.MALFORMED, f"{what} nests too deeply") from None


def _structured(value: bytes | None, content_type: str) -> tuple[dict[str, Any], Any]:
    if content_type not in (STRUCTURED_CONTENT_TYPE, "application/cloudevents"):
        raise EventError(Reason.MALFORMED, f"unsupported structured format {content_type!r}")
    document = _parse_json(value, "structured event")
    if not isinstance(document, dict):
        raise EventError(Reason.MALFORMED, "structured event is not a JSON object")
    if "data_base64" in document:
        raise EventError(Reason.INVALID, "data_base64: data must be JSON, not base64")
    _require_json_data(document.get("datacontenttype"))
    data = document.pop("data", None)
    return document, data


def _binary_attributes(header_map: dict[str, str], content_type: str | None) -> dict[str, Any]:
    if content_type is not None and not _is_json(content_type):
        _require_json_data(content_type)  # raises
    prefix = len(_CE_PREFIX)
    return {name[prefix:]: text for name, text in header_map.items() if name != "content-type"}


def _is_json(media: str) -> bool:
    return media == JSON_CONTENT_TYPE or media.endswith("+json")


def _require_json_data(content_type: object) -> None:
    if content_type is None:
        return
    media = _media_type(str(content_type)) or ""
    if not _is_json(media):
        raise EventError(
            Reason.INVALID, f"datacontenttype: must be application/json, got {media!r}"
        )


def _check_key(key: bytes | None, event: OutcomeEvent) -> None:
    if key is None:
        raise EventError(Reason.INVALID, "record key: must be the project name (partitionkey)")
    if key != event.project.encode():
        shown = key.decode("utf-8", "replace")[:80]
        raise EventError(
            Reason.INVALID,
            f"record key: {shown!r} does not match data.project {event.project!r}",
        )
