"""Wire contracts of the outcome telemetry collector.

Imports nothing else of this project, so producers (the SDK, the gateway) and
exporters can depend on it alone.
"""

from schemas.binding import KafkaRecord, from_record, to_binary, to_structured, to_structured_dict
from schemas.envelope import EventError, OutcomeEvent, Reason, parse_event
from schemas.events import (
    DATA_MODELS,
    NAME_PATTERN,
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
