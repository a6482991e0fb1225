"""What a tool's delivery says, before and after the rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from schemas.envelope import OutcomeEvent

Outcome = Literal["succeeded", "failed", "cancelled"]
Level = Literal["run", "job"]
UnmappedLevel = Literal["run", "job", "incident"]


@dataclass(frozen=True, slots=True)
class RunFacts:
    """A finished run (or job) as the tool reported it.

    `fields` are the values rules match and templates use (the documented fields per type);
    `source` and `key` identify the run in the tool, stable across redeliveries, so the
    event id derived from them makes a redelivery a duplicate downstream."""

    fields: Mapping[str, str]
    outcome: Outcome
    finished: datetime
    duration_s: float | None
    source: str
    key: str
    level: Level = "run"
    links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IncidentChange:
    """An incident opened or resolved, as the tool reported it.

    `key` is the incident's key in the tool (the same for its opening and its resolution);
    `event_id` is stable across the tool's redeliveries and repeats, so they collapse."""

    fields: Mapping[str, str]
    state: Literal["opened", "resolved"]
    key: str
    at: datetime
    """When it started (opened) or ended (resolved)."""
    source: str
    event_id: str
    started: datetime | None = None
    """A resolution's start, when the tool says it."""
    title: str | None = None
    severity: str | None = None
    resolved_by: Literal["automation", "person"] | None = None


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """One delivery's incident changes (Alertmanager sends several alerts per POST)."""

    changes: tuple[IncidentChange, ...]


@dataclass(frozen=True, slots=True)
class Ignored:
    """A delivery that carries no outcome (queued, in progress, a kind we do not map)."""

    reason: str


class MalformedError(ValueError):
    """The payload is not what the tool sends (a field missing or of the wrong kind)."""


@dataclass(frozen=True, slots=True)
class Accepted:
    events: tuple[OutcomeEvent, ...]


@dataclass(frozen=True, slots=True)
class Unmapped:
    """No rule matched: the delivery is kept (dead-lettered) for a replay once one does."""

    fields: Mapping[str, str] = field(default_factory=dict)
    level: UnmappedLevel = "run"
    why: str | None = None
    """Said instead of the fields when no rule could have matched (no integration)."""

    @property
    def detail(self) -> str:
        if self.why is not None:
            return self.why
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(self.fields.items()))
        return f"no rule matched this {self.level} ({shown})"


@dataclass(frozen=True, slots=True)
class Invalid:
    """A rule matched but produced an event that is not valid (e.g. a bad name)."""

    detail: str


Translation = Accepted | Ignored | Unmapped | Invalid
