"""Wire contracts of the outcome telemetry collector.

Imports nothing else of this project, so producers (the SDK, the gateway) and
exporters can depend on it alone. Each name below is loaded on first use (PEP 562): a
program that needs only `schemas.names` does not pay for the event models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from schemas.binding import (
        KafkaRecord,
        from_record,
        to_binary,
        to_structured,
        to_structured_dict,
    )
    from schemas.envelope import EventError, OutcomeEvent, Reason, parse_event
    from schemas.events import (
        DATA_MODELS,
        AiUsage,
        AvailabilityObserved,
        CostIncurred,
        CostStatement,
        EventData,
        EventType,
        IncidentOpened,
        IncidentResolved,
        ReviewRecorded,
        RunFinished,
        SavingsRealized,
    )
    from schemas.names import NAME_PATTERN

_EVENTS = (
    "DATA_MODELS", "AiUsage", "AvailabilityObserved", "CostIncurred", "CostStatement",
    "EventData", "EventType", "IncidentOpened", "IncidentResolved", "ReviewRecorded",
    "RunFinished", "SavingsRealized",
)  # fmt: skip
_HOMES: dict[str, str] = {
    **dict.fromkeys(
        ("KafkaRecord", "from_record", "to_binary", "to_structured", "to_structured_dict"),
        "schemas.binding",
    ),
    **dict.fromkeys(("EventError", "OutcomeEvent", "Reason", "parse_event"), "schemas.envelope"),
    **dict.fromkeys(_EVENTS, "schemas.events"),
    "NAME_PATTERN": "schemas.names",
}
"""Each public name and the module it lives in."""

__all__ = [
    "DATA_MODELS",
    "NAME_PATTERN",
    "AiUsage",
    "AvailabilityObserved",
    "CostIncurred",
    "CostStatement",
    "EventData",
    "EventError",
    "EventType",
    "IncidentOpened",
    "IncidentResolved",
    "KafkaRecord",
    "OutcomeEvent",
    "Reason",
    "ReviewRecorded",
    "RunFinished",
    "SavingsRealized",
    "from_record",
    "parse_event",
    "to_binary",
    "to_structured",
    "to_structured_dict",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'schemas' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
