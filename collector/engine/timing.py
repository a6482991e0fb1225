"""The collector's time rules (docs/REFERENCE.md), for those who judge an event before it reaches
a collector: the gateway before it answers (§8) and `outcomes emit --file` before it
sends. An event more than the tolerance in the future is `future`; one in a period (the
project's declared kind) that closed more than the grace window ago is `too_late`, unless
it is history (`outcomesbackfill`). Saying so at once, instead of an acknowledgement and a
dead letter later, tells the sender the truth."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from collector.engine.periods import PeriodKind, period_containing
from schemas.envelope import OutcomeEvent, Reason

FUTURE_TOLERANCE: Final = timedelta(minutes=5)


def timing_problem(
    event: OutcomeEvent, kind: PeriodKind, now: datetime, grace: timedelta
) -> tuple[Reason, str] | None:
    if event.time > now + FUTURE_TOLERANCE:
        return Reason.FUTURE, (
            f"time {event.time.isoformat()} is more than {FUTURE_TOLERANCE} in the future"
        )
    if event.backfill:
        return None
    period = period_containing(event.time, kind)
    if period.end <= now - grace:
        return Reason.TOO_LATE, (
            f"time {event.time.isoformat()} is in period {period.key}, closed more than the"
            f" grace window ({grace}) ago"
        )
    return None
