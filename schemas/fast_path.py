"""The fast path for the common record: a valid binary-mode event, usual spelling.

`binding.from_record` is exact for every input but builds several intermediate objects
per record. Most records are binary-mode events with lowercase `ce_` headers,
`content-type: application/json` and an RFC 3339 time in its usual spelling. For those
the envelope is checked in one pass over the raw headers (`binary_envelope_of`) and
`data` is validated by pydantic straight from the bytes (`from_binary`).

Both return None for anything else, and `from_record` then takes the general path,
which decides and reports what is wrong. They accept only what the general path
accepts, with the same result: a property test checks that against it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from schemas.envelope import OutcomeEvent, inconsistency
from schemas.events import DATA_MODELS, EventType

EnvelopeFields = tuple[bytes, bytes, bytes, bytes]
"""The checked envelope of a known type: the raw id, source, type and time headers;
`from_binary` completes the event."""

_EVENT_TYPES: Final = {event_type.value.encode(): event_type for event_type in EventType}
_VALIDATORS: Final = {kind: model.__pydantic_validator__ for kind, model in DATA_MODELS.items()}
"""Each data model's validator, called directly (`model_validate_json` adds a layer)."""
_MAX_ATTRIBUTE: Final = 1024
"""Characters; a value of at most this many bytes has at most this many characters."""
_TIME: Final = re.compile(
    rb"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    rb"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?"
    rb"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)"
)
"""RFC 3339 as producers spell it; pydantic and `datetime.fromisoformat` read it alike."""


def binary_envelope_of(headers: Sequence[tuple[str, bytes | None]]) -> EnvelopeFields | None:
    """The envelope of a binary-mode record in the usual spelling, or None.

    Works on the raw bytes: `from_binary` decodes id and source (and declines what is
    not UTF-8); the values of any other attribute are checked here.
    """
    found = dict(headers)
    if len(found) != len(headers):
        return None  # a repeated header: the general path checks which copy counts
    content_type = found.pop("content-type", None)
    specversion = found.pop("ce_specversion", None)
    event_id, source = found.pop("ce_id", None), found.pop("ce_source", None)
    event_type, time = found.pop("ce_type", None), found.pop("ce_time", None)
    if (
        content_type not in (None, b"application/json")
        or specversion != b"1.0"
        or not event_id
        or not source
        or len(event_id) > _MAX_ATTRIBUTE
        or len(source) > _MAX_ATTRIBUTE
        or event_type not in _EVENT_TYPES
        or time is None
        or _TIME.fullmatch(time) is None
        or "ce_outcomesbackfill" in found  # history: rare, the general path reads it
        or (found and not _usual_extensions(found))
    ):
        return None
    return event_id, source, event_type, time


def _usual_extensions(others: dict[str, bytes | None]) -> bool:
    """Whether the headers beside the envelope are ignored or lowercase `ce_` extension
    attributes in UTF-8 (the general path folds case and decodes every attribute)."""
    for name, raw in others.items():
        lowered = name.lower()
        if lowered[:3] == "ce_":
            if name != lowered or not _utf8(raw):
                return False
        elif lowered == "content-type":
            return False
    return True


def _utf8(raw: bytes | None) -> bool:
    try:
        (raw or b"").decode()
    except UnicodeDecodeError:
        return False
    return True


def from_binary(
    fields: EnvelopeFields, key: bytes | None, value: bytes | None
) -> OutcomeEvent | None:
    """The event of a record whose envelope `binary_envelope_of` returned; None unless
    its id, source, time, `data` and key are valid too."""
    if not value or key is None:
        return None
    raw_id, raw_source, type_name, time = fields
    event_type = _EVENT_TYPES[type_name]
    try:
        event_id, source = raw_id.decode(), raw_source.decode()
        moment = datetime.fromisoformat(time.decode())  # a day that does not exist raises
        payload = _VALIDATORS[event_type].validate_json(value)
    except ValueError:  # UnicodeDecodeError and ValidationError included
        return None
    if key != payload.project.encode():
        return None
    event = OutcomeEvent(event_id, source, event_type, moment, payload)
    return None if inconsistency(event) is not None else event
