"""Each project's last closed periods, as last restated: the boards' month over month.

A closed period's figures change only when a late event (within the grace window) or a
history import lands in it, or when the declarations change, so they are kept evaluated
and recomputed only then: a period is re-evaluated when one of its months (or the
project's incidents) changed after the kept figures were computed, or the policy did.
Months leave memory (`ProjectState.drop_months_ended_before`) long after their period
closed; the figures kept for them stay, and are not recomputed from what is left of a
quarter whose first months are gone (`ProjectState.dropped`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final

from collector.engine.evaluate import closed_period, known_since
from collector.engine.periods import Period, PeriodKind, period_containing
from collector.engine.policy import ProjectProfile
from collector.engine.project import ProjectState
from schemas.snapshot import ClosedPeriod

CLOSED_MONTHS: Final = 12
CLOSED_QUARTERS: Final = 4


def last_closed(kind: PeriodKind, now: datetime) -> tuple[Period, ...]:
    """The last closed months and, for a quarterly project, quarters: oldest first."""
    return _closed_before(kind, period_containing(now, PeriodKind.MONTH))


@lru_cache(maxsize=64)
def _closed_before(kind: PeriodKind, month: Period) -> tuple[Period, ...]:
    found: list[Period] = []
    wanted = [(PeriodKind.MONTH, CLOSED_MONTHS)]
    if kind is PeriodKind.QUARTER:
        wanted.append((PeriodKind.QUARTER, CLOSED_QUARTERS))
    for each, count in wanted:
        period = period_containing(month.start, each)
        for _ in range(count):
            period = period_containing(period.start - timedelta(microseconds=1), each)
            found.append(period)
    return tuple(sorted(found, key=lambda period: (period.start_s, period.end_s)))


@dataclass(frozen=True, slots=True)
class _Kept:
    figures: ClosedPeriod
    revision: int
    """The latest change to its months or the project's incidents it was computed from."""
    policy_version: int


class ClosedHistory:
    """Per project: period key -> its kept figures."""

    def __init__(self) -> None:
        self._kept: dict[str, dict[str, _Kept]] = {}

    def of(
        self,
        state: ProjectState,
        profile: ProjectProfile,
        now: datetime,
        declared_since_s: float | None,
        policy_version: int,
    ) -> tuple[ClosedPeriod, ...]:
        """The project's last closed periods (not those before it was known)."""
        before = self._kept.get(state.name, {})
        kept: dict[str, _Kept] = {}
        known_s = known_since(state, profile, declared_since_s)
        for period in last_closed(profile.period_kind, now):
            if known_s is None or period.end_s <= known_s:
                continue  # not observed: it ended before the project existed
            revision = max(
                (
                    totals.revision
                    for month, totals in state.months.values()
                    if period.contains_month(month)
                ),
                default=0,
            )
            revision = max(revision, state.incidents_revision)
            old = before.get(period.key)
            whole = not any(period.contains_month(m) for m in state.dropped)
            if old is not None and (
                not whole or (old.revision == revision and old.policy_version == policy_version)
            ):
                kept[period.key] = old
            elif whole:
                figures = closed_period(
                    state,
                    profile,
                    period,
                    now,
                    declared_since_s,
                    with_status=period.kind is profile.period_kind,
                )
                kept[period.key] = _Kept(figures, revision, policy_version)
        self._kept[state.name] = kept
        return tuple(entry.figures for entry in kept.values())

    def forget(self, name: str) -> None:
        self._kept.pop(name, None)
