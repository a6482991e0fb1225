"""An event's `data` read from the dict where pydantic keeps its field values, and its
models as constants the compiled engine reads without a lookup.

A data model's attribute is read through pydantic's `__getattr__` hook, ≈ 330 machine
instructions a read in the compiled engine; the same value from the model's `__dict__` is
a dict lookup, ≈ 80. The engine reads a run's fields about ten times an event, so it reads
the dict once (`fields_of`) and the fields from it. The typed views below keep the names
in mypy's sight; a test holds them to the models.
"""

from __future__ import annotations

from typing import Final, Literal, TypedDict, cast

from schemas.events import (
    AiUsage,
    AvailabilityObserved,
    CostIncurred,
    CostStatement,
    EventData,
    IncidentOpened,
    IncidentResolved,
    ReviewRecorded,
    RunFinished,
    SavingsRealized,
)

# The data models under `Final` names, for telling an event's kind (`type(data) is RUN`):
# mypyc keeps a `Final` name in C, also where another compiled module imports it, and looks
# any other global name up in the module's dict at each use (≈ 100–130 machine
# instructions), an imported class included.
RUN: Final = RunFinished
COST: Final = CostIncurred
SAVING: Final = SavingsRealized
USAGE: Final = AiUsage
STATEMENT: Final = CostStatement
WINDOW: Final = AvailabilityObserved
OPENED: Final = IncidentOpened
RESOLVED: Final = IncidentResolved
REVIEW: Final = ReviewRecorded


class DataFields(TypedDict, total=False):
    """The fields the engine reads of every model, or of each model that has them."""

    project: str
    """Every model's."""
    currency: str | None
    """The models with money: runs, costs, savings, model calls, statements."""
    automation: str
    """Runs, model calls, reviews."""
    service: str
    """Availability windows, incidents."""


class RunFields(TypedDict):
    """A `schemas.events.RunFinished`'s fields, all of them."""

    project: str
    automation: str
    outcome: Literal["succeeded", "failed", "cancelled"]
    duration_s: float | None
    manual_duration_s: float
    human_effort_s: float
    cost: float
    currency: str | None
    links: list[str] | None


def fields_of(data: EventData) -> DataFields:
    """`data`'s field values (its `__dict__`), as they are: never written to."""
    return cast(DataFields, data.__dict__)


def run_fields(fields: DataFields) -> RunFields:
    """The fields of a run's data (`fields_of` a `RunFinished`)."""
    return cast(RunFields, fields)
