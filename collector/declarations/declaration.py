"""Project declarations as code (docs/REFERENCE.md#declarations), validated with pydantic."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

from collector.engine.periods import PeriodKind
from schemas.names import NAME_PATTERN

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Ratio = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]


class Strict(BaseModel):
    """Every declaration model: unknown fields refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Objectives(Strict):
    """What the project promised, per period. All optional; none = unscoped."""

    uptime: Ratio | None = None
    savings: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    timeSavedHours: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None  # noqa: N815
    roi: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    """Net value per unit of cost; 0 = break-even (met while roi >= 0, no attainment)."""
    successRate: Ratio | None = None  # noqa: N815
    acceptanceRate: Ratio | None = None  # noqa: N815
    """Share of reviewed runs a person accepted (accepted or edited)."""

    def is_empty(self) -> bool:
        return all(value is None for value in self.model_dump().values())


class Guards(Strict):
    """Minimum evidence before a target is judged (else `insufficient_data`)."""

    minRuns: Annotated[int, Field(ge=0)] = 20  # noqa: N815
    minObservedHours: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0  # noqa: N815
    minElapsed: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.1  # noqa: N815
    minReviews: Annotated[int, Field(ge=0)] = 20  # noqa: N815


class RateChange(Strict):
    """One entry of a dated `hourlyRate` list: the rate in force from `since` (00:00 UTC)."""

    since: date
    value: Annotated[float, Field(ge=0, allow_inf_nan=False)]


def _distinct_days(rates: list[RateChange]) -> list[RateChange]:
    days = [rate.since for rate in rates]
    repeated = sorted({day for day in days if days.count(day) > 1})
    if repeated:
        raise ValueError(f"more than one rate since {', '.join(map(str, repeated))}")
    return sorted(rates, key=lambda rate: rate.since)


RateList = Annotated[list[RateChange], Field(min_length=1), AfterValidator(_distinct_days)]
HourlyRate = Annotated[
    Annotated[float, Field(ge=0, allow_inf_nan=False), Tag("<number>")]
    | Annotated[RateList, Tag("<list>")],
    Discriminator(lambda value: "<list>" if isinstance(value, list) else "<number>"),
]
"""A plain rate, or a dated list of them. The tags (dropped from error locations) make
an error name the branch the value was meant for, not both."""


class Spec(Strict):
    owner: Label | None = None
    """Who runs it; without one the project is not ready to be judged (a warning)."""
    sponsor: Label | None = None
    stage: Literal["pilot", "production", "retired"] = "pilot"
    stageSince: date | None = None  # noqa: N815
    period: PeriodKind = PeriodKind.MONTH
    hourlyRate: HourlyRate | None = None  # noqa: N815
    budget: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    services: list[Name] | None = None
    objectives: Objectives = Objectives()
    guards: Guards = Guards()
    uptimeFrom: Literal["windows", "incidents"] = "windows"  # noqa: N815
    observedSince: date | None = None  # noqa: N815

    @model_validator(mode="after")
    def _incidents_need_services(self) -> Spec:
        if self.uptimeFrom == "incidents" and not self.services:
            raise ValueError(
                "uptimeFrom: incidents needs `services`: the services whose incidents count"
                " (observed time is counted per declared service)"
            )
        return self


class Metadata(Strict):
    name: Name
    labels: dict[Label, Label] = {}


class ProjectDeclaration(Strict):
    apiVersion: Literal["outcomes/v1"]  # noqa: N815
    kind: Literal["Project"]
    metadata: Metadata
    spec: Spec

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def team(self) -> str | None:
        return self.metadata.labels.get("team")
