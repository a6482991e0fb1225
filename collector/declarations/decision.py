"""`kind: Decision` documents (docs/REFERENCE.md#decisions): what a portfolio review decided
about a project, who owns it, and when it is to be reviewed again. Validated with pydantic
like every declaration (file, line and field of each problem)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import date as Day  # noqa: N812 - the spec has a field `date`
from typing import Annotated, Literal

from pydantic import StringConstraints, model_validator

from collector.declarations.declaration import Label, Metadata, Name, Strict

Rationale = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Verdict = Literal["scale", "continue", "pause", "stop", "extend"]


class DecisionSpec(Strict):
    project: Name
    date: Day
    decision: Verdict
    owner: Label
    rationale: Rationale
    reviewBy: Day | None = None  # noqa: N815
    """When the project is to be decided on again (overdue once the day has passed)."""

    @model_validator(mode="after")
    def _review_after_the_decision(self) -> DecisionSpec:
        if self.reviewBy is not None and self.reviewBy < self.date:
            raise ValueError(f"reviewBy {self.reviewBy} is before the decision's date {self.date}")
        return self


class DecisionDeclaration(Strict):
    apiVersion: Literal["outcomes/v1"]  # noqa: N815
    kind: Literal["Decision"]
    metadata: Metadata
    spec: DecisionSpec

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def review_due_s(self) -> float | None:
        """The end of the `reviewBy` day (UTC): a review not decided by then is overdue."""
        if self.spec.reviewBy is None:
            return None
        day = self.spec.reviewBy + timedelta(days=1)
        return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def latest(decisions: list[DecisionDeclaration]) -> dict[str, DecisionDeclaration]:
    """Each project's decision in force: the one of the latest date (of one date, the last
    declared)."""
    found: dict[str, DecisionDeclaration] = {}
    for decision in decisions:
        held = found.get(decision.spec.project)
        if held is None or decision.spec.date >= held.spec.date:
            found[decision.spec.project] = decision
    return found
