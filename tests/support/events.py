"""Builders of valid events and records for tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.envelope import OutcomeEvent
from schemas.events import DATA_MODELS, EventType

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
_ids = itertools.count()

DEFAULT_DATA: dict[EventType, dict[str, Any]] = {
    EventType.RUN_FINISHED: {
        "project": "ticket-triage",
        "automation": "classify",
        "outcome": "succeeded",
        "duration_s": 4.0,
        "manual_duration_s": 900.0,
        "human_effort_s": 0.0,
        "cost": 0.05,
    },
    EventType.COST_INCURRED: {"project": "ticket-triage", "amount": 100.0, "category": "licence"},
    EventType.SAVINGS_REALIZED: {
        "project": "ticket-triage",
        "amount": 250.0,
        "category": "cloud",
        "basis": "invoice diff",
    },
    EventType.AVAILABILITY_OBSERVED: {
        "project": "ticket-triage",
        "service": "servicedesk-api",
        "window_start": "2026-11-15T11:00:00Z",
        "window_end": "2026-11-15T12:00:00Z",
        "downtime_s": 36.0,
    },
    EventType.INCIDENT_OPENED: {
        "project": "ticket-triage",
        "service": "servicedesk-api",
        "incident": "INC0012345",
        "title": "API 5xx above 5%",
        "severity": "critical",
    },
    EventType.INCIDENT_RESOLVED: {
        "project": "ticket-triage",
        "service": "servicedesk-api",
        "incident": "INC0012345",
        "started_at": "2026-11-15T11:30:00Z",
        "resolved_by": "automation",
    },
    EventType.AI_USAGE: {
        "project": "ticket-triage",
        "automation": "triage-agent",
        "provider": "openai",
        "model": "gpt-4o-mini-2024-07-18",
        "operation": "chat",
        "input_tokens": 42,
        "output_tokens": 17,
    },
    EventType.COST_STATEMENT: {
        "project": "ticket-triage",
        "statement": "AWS/123456789012/2026-11-01",
        "version": "0a1b2c3d4e5f6a7b",
        "issued_at": "2026-11-15T12:00:00Z",
        "lines": [{"day": "2026-11-02", "category": "compute", "amount": "12.5"}],
        "currency": "USD",
    },
    EventType.REVIEW_RECORDED: {
        "project": "ticket-triage",
        "automation": "classify",
        "subject": "e-run",
        "verdict": "accepted",
    },
}


def data_dict(event_type: EventType, **overrides: Any) -> dict[str, Any]:
    return {**DEFAULT_DATA[event_type], **overrides}


def make_event(
    event_type: EventType = EventType.RUN_FINISHED,
    *,
    time: datetime = NOW,
    event_id: str | None = None,
    source: str = "tests",
    **data: Any,
) -> OutcomeEvent:
    payload = DATA_MODELS[event_type].model_validate(data_dict(event_type, **data))
    return OutcomeEvent(event_id or f"e-{next(_ids)}", source, event_type, time, payload)


def availability(
    end: datetime, length: timedelta = timedelta(minutes=5), **data: Any
) -> OutcomeEvent:
    return make_event(
        EventType.AVAILABILITY_OBSERVED,
        time=end,
        window_start=(end - length).isoformat(),
        window_end=end.isoformat(),
        **data,
    )


def structured(event_type: str, data: dict[str, Any], **attributes: Any) -> dict[str, Any]:
    """A structured-mode CloudEvent dict, for building invalid variants."""
    return {
        "specversion": "1.0",
        "id": attributes.pop("id", f"s-{next(_ids)}"),
        "source": "tests",
        "type": event_type,
        "time": "2026-11-15T12:00:00Z",
        "data": data,
        **attributes,
    }
