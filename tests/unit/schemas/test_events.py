from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.binding import from_record, to_binary, to_structured
from schemas.envelope import TIED_TYPES, EventError, OutcomeEvent, Reason, parse_event
from schemas.events import (
    DATA_MODELS,
    AvailabilityObserved,
    CostIncurred,
    EventType,
    RunFinished,
)
from tests.support.events import data_dict, structured

RUN = EventType.RUN_FINISHED.value


def parse(document: dict[str, Any]) -> Any:
    data = document.pop("data")
    return parse_event(document, data)


def test_valid_run_is_parsed_with_aware_time() -> None:
    event = parse(structured(RUN, data_dict(EventType.RUN_FINISHED)))
    assert isinstance(event.data, RunFinished)
    assert event.time.utcoffset() is not None
    assert event.project == "ticket-triage"


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_type_accepts_its_defaults(event_type: EventType) -> None:
    event = parse(structured(event_type.value, data_dict(event_type)))
    assert event.type is event_type


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"duration_s": -1.0}, "data.duration_s"),
        ({"cost": float("nan")}, "data.cost"),
        ({"manual_duration_s": float("inf")}, "data.manual_duration_s"),
        ({"outcome": "exploded"}, "data.outcome"),
        ({"project": "Ticket-Triage"}, "data.project"),
        ({"project": "-leading-dash"}, "data.project"),
        ({"project": "x" * 64}, "data.project"),
        ({"automation": ""}, "data.automation"),
        ({"surprise": 1}, "data.surprise"),
        ({"duration_s": "12"}, "data.duration_s"),
        ({"duration_s": True}, "data.duration_s"),
        ({"currency": "usd"}, "data.currency"),
    ],
)
def test_run_field_rules(override: dict[str, Any], field: str) -> None:
    with pytest.raises(EventError) as caught:
        parse(structured(RUN, data_dict(EventType.RUN_FINISHED, **override)))
    assert caught.value.reason is Reason.INVALID
    assert field in caught.value.detail
    assert caught.value.event_type == RUN


def test_missing_field_is_named() -> None:
    data = data_dict(EventType.RUN_FINISHED)
    del data["human_effort_s"]
    with pytest.raises(EventError, match="data.human_effort_s: Field required"):
        parse(structured(RUN, data))


def test_a_cost_is_never_zero_and_a_credit_is_negative() -> None:
    data = data_dict(EventType.COST_INCURRED, amount=0.0)
    with pytest.raises(EventError, match="data.amount: Value error, must not be 0"):
        parse(structured(EventType.COST_INCURRED.value, data))
    credit = data_dict(EventType.COST_INCURRED, amount=-5.0)
    parsed = parse(structured(EventType.COST_INCURRED.value, credit)).data
    assert isinstance(parsed, CostIncurred) and parsed.amount == -5.0
    savings = data_dict(EventType.SAVINGS_REALIZED, amount=-5.0)
    with pytest.raises(EventError, match="data.amount"):
        parse(structured(EventType.SAVINGS_REALIZED.value, savings))


@pytest.mark.parametrize(
    ("start", "end", "downtime", "message"),
    [
        ("2026-11-15T12:00:00Z", "2026-11-15T12:00:00Z", 0.0, "must be > 0"),
        ("2026-11-15T10:59:59Z", "2026-11-15T12:00:00Z", 0.0, "<= 3600"),
        ("2026-11-15T11:59:00Z", "2026-11-15T12:00:00Z", 61.0, "exceeds the window"),
        ("2026-11-15T11:00:00", "2026-11-15T12:00:00Z", 0.0, "timezone"),
        (1700000000, "2026-11-15T12:00:00Z", 0.0, "RFC 3339"),
    ],
)
def test_availability_window_rules(start: Any, end: str, downtime: float, message: str) -> None:
    data = data_dict(
        EventType.AVAILABILITY_OBSERVED, window_start=start, window_end=end, downtime_s=downtime
    )
    with pytest.raises(EventError, match=message):
        parse(structured(EventType.AVAILABILITY_OBSERVED.value, data))


def test_a_full_hour_window_is_allowed() -> None:
    data = AvailabilityObserved.model_validate(
        data_dict(
            EventType.AVAILABILITY_OBSERVED,
            window_start="2026-11-15T11:00:00+01:00",
            window_end="2026-11-15T11:00:00Z",
            downtime_s=3600.0,
        )
    )
    assert data.window_length_s == 3600.0


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"specversion": "0.3"}, "specversion"),
        ({"id": ""}, "id"),
        ({"time": "2026-11-15T12:00:00"}, "time"),
        ({"time": "yesterday"}, "time"),
        ({"time": 1763200000}, "time"),
    ],
)
def test_envelope_rules(attributes: dict[str, Any], message: str) -> None:
    document = structured(RUN, data_dict(EventType.RUN_FINISHED), **attributes)
    with pytest.raises(EventError, match=message) as caught:
        parse(document)
    assert caught.value.reason is Reason.INVALID


def test_missing_required_attribute() -> None:
    document = structured(RUN, data_dict(EventType.RUN_FINISHED))
    del document["source"]
    with pytest.raises(EventError, match="source: Field required"):
        parse(document)


def test_unknown_type_has_its_own_reason() -> None:
    with pytest.raises(EventError) as caught:
        parse(structured("outcomes.coffee.brewed", {"project": "x"}))
    assert caught.value.reason is Reason.UNKNOWN_TYPE
    assert caught.value.event_type is None


def test_extension_attributes_are_allowed() -> None:
    document = structured(RUN, data_dict(EventType.RUN_FINISHED), traceparent="00-abc-def-01")
    assert parse(document).id == document["id"]


def test_an_availability_event_is_timed_at_its_window_end() -> None:
    """D4: a window sent with time = now is refused, whatever the window (a future window
    would count; a September window sent in November would land in November)."""
    data = {"project": "p", "service": "api", "window_start": "2026-09-10T10:00:00Z",
            "window_end": "2026-09-10T11:00:00Z", "downtime_s": 0.0}  # fmt: skip
    attributes = {"specversion": "1.0", "id": "1", "source": "s",
                  "type": "outcomes.availability.observed", "time": "2026-11-20T12:00:00Z"}  # fmt: skip
    with pytest.raises(EventError, match="must equal data.window_end") as refused:
        parse_event(attributes, data)
    assert refused.value.reason is Reason.INVALID
    event = parse_event(attributes | {"time": "2026-09-10T11:00:00Z"}, data)
    assert event.time == datetime(2026, 9, 10, 11, tzinfo=UTC)


@pytest.mark.parametrize("encode", [to_binary, to_structured])
@pytest.mark.parametrize(
    ("event_type", "data", "message"),
    [
        (EventType.AVAILABILITY_OBSERVED,
         {"project": "p", "service": "api", "window_start": "2026-09-10T10:00:00Z",
          "window_end": "2026-09-10T11:00:00Z", "downtime_s": 0.0},
         "must equal data.window_end"),
        (EventType.INCIDENT_RESOLVED,
         {"project": "p", "service": "api", "incident": "i-1",
          "started_at": "2026-11-20T13:00:00Z"},
         "resolved before started"),
    ],
)  # fmt: skip
def test_the_fast_paths_refuse_an_envelope_its_data_contradicts(
    encode: Any, event_type: EventType, data: dict[str, Any], message: str
) -> None:
    """Records in the usual spelling take the fast paths, which check the envelope against
    `data` for exactly these types (`TIED_TYPES`); refused as the general path refuses."""
    payload = DATA_MODELS[event_type].model_validate(data)
    moment = datetime(2026, 11, 20, 12, tzinfo=UTC)
    record = encode(OutcomeEvent("1", "s", event_type, moment, payload))
    assert event_type in TIED_TYPES
    with pytest.raises(EventError, match=message):
        from_record(record.key, record.headers, record.value)
