"""The CloudEvents 1.0 envelope around an outcome event (docs/REFERENCE.md#events, binding).

`OutcomeEvent` is the validated, typed event the collector works with: envelope
attributes plus one of the `data` models. Building one from untrusted input goes
through `parse_event`, which raises `EventError` with a reason the dead-letter
headers use.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from schemas.events import (
    DATA_MODELS,
    AvailabilityObserved,
    EventData,
    EventType,
    IncidentResolved,
    Timestamp,
)


class Reason(StrEnum):
    """Why a message was dead-lettered (header `outcomes_error_reason`)."""

    MALFORMED = "malformed"
    INVALID = "invalid"
    UNKNOWN_TYPE = "unknown_type"
    TOO_LARGE = "too_large"
    TOO_LATE = "too_late"
    FUTURE = "future"
    CURRENCY = "currency"
    UNMAPPED = "unmapped"
    UNMATCHED = "unmatched"


class EventError(Exception):
    """A permanent rejection: the message can never become valid by retrying."""

    def __init__(self, reason: Reason, detail: str, event_type: str | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.event_type = event_type
        """The event's `type` when it is one we know, for per-type counting."""


Attribute = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Envelope(BaseModel):
    """CloudEvents context attributes. Extensions other than `partitionkey` are allowed."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: Attribute
    source: Attribute
    type: Attribute
    time: Timestamp
    datacontenttype: str | None = None
    dataschema: str | None = None
    subject: str | None = None
    partitionkey: str | None = None
    outcomesbackfill: bool = False
    """History import (`outcomes emit --file … --backfill`): counted in its period however
    long ago that period closed. CloudEvents extensions travel as strings in headers:
    `true` / `false`."""


class OutcomeEvent(NamedTuple):
    """A validated outcome event. `time` is its event time (timezone-aware).

    Immutable; a named tuple because one is built per consumed record."""

    id: str
    source: str
    type: EventType
    time: datetime
    data: EventData
    backfill: bool = False
    """The `outcomesbackfill` extension: history, applied to a closed period whatever its
    age, and remembered as a duplicate for good (a second import counts nothing)."""

    @property
    def project(self) -> str:
        return self.data.project


def describe_errors(error: ValidationError, prefix: str = "") -> str:
    """One line per pydantic error: `field.path: message`, stable for DLQ headers."""
    parts = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "(event)"
        parts.append(f"{prefix}{location}: {item['msg']}")
    return "; ".join(parts)


def parse_event(attributes: dict[str, Any], data: Any) -> OutcomeEvent:
    """Validate envelope attributes and `data` into an `OutcomeEvent`.

    Raises `EventError` (invalid or unknown_type); never any other exception for
    JSON-shaped input.
    """
    try:
        envelope = Envelope.model_validate(attributes)
    except ValidationError as error:
        raise EventError(Reason.INVALID, describe_errors(error)) from None
    try:
        event_type = EventType(envelope.type)
    except ValueError:
        known = ", ".join(t.value for t in EventType)
        raise EventError(
            Reason.UNKNOWN_TYPE, f"type {envelope.type!r} is not one of: {known}"
        ) from None
    if not isinstance(data, dict):
        raise EventError(Reason.INVALID, "data: must be a JSON object", event_type.value)
    try:
        payload = DATA_MODELS[event_type].model_validate(data)
    except ValidationError as error:
        detail = describe_errors(error, "data.")
        raise EventError(Reason.INVALID, detail, event_type.value) from None
    event = OutcomeEvent(
        envelope.id, envelope.source, event_type, envelope.time, payload, envelope.outcomesbackfill
    )
    problem = inconsistency(event)
    if problem is not None:
        raise EventError(Reason.INVALID, problem, event_type.value)
    return event


TIED_TYPES: Final = frozenset({EventType.AVAILABILITY_OBSERVED, EventType.INCIDENT_RESOLVED})
"""The event types whose envelope `inconsistency` ties to their `data` (for the others it
finds nothing: the fast paths skip the call)."""


def inconsistency(event: OutcomeEvent) -> str | None:
    """What ties the envelope to `data` and does not hold, or None: an availability
    window's event time is its end (else a future window sent now would count, and a
    September window sent in November would land in November)."""
    data = event.data
    if isinstance(data, AvailabilityObserved) and event.time != data.window_end:
        return (
            f"time {event.time.isoformat()} must equal data.window_end"
            f" {data.window_end.isoformat()}"
        )
    if (
        isinstance(data, IncidentResolved)
        and data.started_at is not None
        and data.started_at > event.time
    ):
        return (
            f"resolved before started: time {event.time.isoformat()} (when it ended) is before"
            f" data.started_at {data.started_at.isoformat()}"
        )
    return None
