"""Building outcome events from plain values (SDK, `outcomes emit`, simulators)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from schemas.envelope import OutcomeEvent
from schemas.events import DATA_MODELS, AvailabilityObserved, EventType


def new_event(
    event_type: EventType,
    source: str,
    data: dict[str, Any],
    *,
    event_id: str | None = None,
    time: datetime | None = None,
) -> OutcomeEvent:
    """Validate `data` for `event_type` and wrap it; raises pydantic's ValidationError.

    The time defaults to now, and for an availability window to its end (the event time
    the collector requires of it)."""
    payload = DATA_MODELS[event_type].model_validate(data)
    default = payload.window_end if isinstance(payload, AvailabilityObserved) else None
    moment = time or default or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("time must be timezone-aware")
    return OutcomeEvent(event_id or str(uuid.uuid4()), source, event_type, moment, payload)
