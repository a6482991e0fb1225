"""What a tool's delivery says, before and after the rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from schemas.envelope import OutcomeEvent

Outcome = Literal["succeeded", "failed", "cancelled"]
Level = Literal["run", "job"]


@dataclass(frozen=True, slots=True)
class RunFacts:
    """A finished run (or job) as the tool reported it.

    `fields` are the values rules match and templates use (DESIGN's fields per type);
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
    level: Level = "run"
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
