"""Admission: the one time rule, and the currency rule, every judge of an event applies.

An event more than `future_tolerance` after now is `future`; one in a period (its
project's declared kind) that closed more than the grace window ago is `too_late`, unless
it is history (`outcomesbackfill`); money in another currency than the reporting one is
`currency`. The engine applies them per event (comparing epoch seconds with an `Instant`
read once per batch); the gateway and `outcomes emit --file` apply the same rules before
they answer (`collector.engine.timing`), so a sender is told at once what a collector
would refuse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from collector.engine.periods import Period, month_and_quarter
from schemas.envelope import EventError, Reason

FUTURE_TOLERANCE: Final = timedelta(minutes=5)


class Verdict(StrEnum):
    """What became of an event a judge took in."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Instant:
    """One reading of the clock and the limits it implies. A batch's events are all
    judged at its instant, so the clock is read once per batch."""

    now: datetime
    now_s: float
    future_limit_s: float
    """An event time (epoch seconds) later than this is in the future."""
    closed_before_s: float
    """A period that ended at or before this (epoch seconds) closed more than the grace
    window ago."""


def instant_at(now: datetime, grace: timedelta, tolerance: timedelta = FUTURE_TOLERANCE) -> Instant:
    now_s = now.timestamp()
    return Instant(now, now_s, now_s + tolerance.total_seconds(), now_s - grace.total_seconds())


def future(moment: datetime, tolerance: timedelta = FUTURE_TOLERANCE) -> EventError:
    return EventError(
        Reason.FUTURE, f"time {moment.isoformat()} is more than {tolerance} in the future"
    )


def too_late(moment: datetime, period: Period, grace: timedelta) -> EventError:
    return EventError(
        Reason.TOO_LATE,
        f"time {moment.isoformat()} is in period {period.key}, closed more than the grace"
        f" window ({grace}) ago",
    )


def check_currency(currency: str | None, reporting: str) -> None:
    if currency is not None and currency != reporting:
        raise EventError(
            Reason.CURRENCY,
            f"data.currency {currency!r} differs from the reporting currency {reporting!r}",
        )


Placed = tuple[Period, Period, float, float, str]
"""An event time's month and quarter, the end of each in epoch seconds, and the month's
key."""


class MonthCache:
    """The month and quarter of an event time: most events of a batch lie in the month of
    the one before, so that month is kept and only its bounds compared. The bounds are
    kept here as floats too, and the month's key: a `Period` is a Python dataclass, each
    read of one of its fields an attribute call (≈ 300 machine instructions)."""

    def __init__(self, now: datetime) -> None:
        self._last = self._placed(month_and_quarter(now))
        self._start_s = self._last[0].start_s

    def of(self, moment: datetime, event_s: float) -> Placed:
        last = self._last
        if self._start_s <= event_s < last[2]:
            return last
        self._last = found = self._placed(month_and_quarter(moment))
        self._start_s = found[0].start_s
        return found

    @staticmethod
    def _placed(periods: tuple[Period, Period]) -> Placed:
        month, quarter = periods
        return month, quarter, month.end_s, quarter.end_s, month.key
