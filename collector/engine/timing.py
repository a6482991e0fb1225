"""The collector's time rules (`collector.engine.admission`), for those who judge an event
before it reaches a collector: the gateway before it answers and `outcomes emit --file`
before it sends. Saying so at once, instead of an acknowledgement and a dead letter
later, tells the sender the truth."""

from __future__ import annotations

from datetime import datetime, timedelta

from collector.engine.admission import FUTURE_TOLERANCE, future, instant_at, too_late
from collector.engine.periods import PeriodKind, period_containing
from schemas.envelope import OutcomeEvent, Reason

__all__ = ["FUTURE_TOLERANCE", "timing_problem"]


def timing_problem(
    event: OutcomeEvent, kind: PeriodKind, now: datetime, grace: timedelta
) -> tuple[Reason, str] | None:
    """(reason, detail) when a collector would refuse `event` for its time, else None."""
    at = instant_at(now, grace)
    event_s = event.time.timestamp()
    if event_s > at.future_limit_s:
        error = future(event.time)
        return error.reason, error.detail
    if event.backfill:
        return None
    period = period_containing(event.time, kind)
    if period.end_s <= at.closed_before_s:
        error = too_late(event.time, period, grace)
        return error.reason, error.detail
    return None
