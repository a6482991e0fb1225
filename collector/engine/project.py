"""The in-memory state of one project: lifetime counters and its periods' totals."""

from __future__ import annotations

from dataclasses import dataclass, field

from collector.engine.aggregates import LifetimeCounters, PeriodTotals
from collector.engine.periods import Period, PeriodKind
from collector.state.model import PeriodRow, ProjectRow
from schemas.events import AvailabilityObserved, EventData, RunFinished

OTHER = "other"


@dataclass
class ProjectState:
    """Owned by the engine thread. `partition` is where the project's events arrive."""

    name: str
    partition: int
    counters: LifetimeCounters = field(default_factory=LifetimeCounters)
    periods: dict[str, tuple[Period, PeriodTotals]] = field(default_factory=dict)

    def label_for(self, data: EventData, limit: int) -> tuple[str, str | None]:
        """(automation or service label, the label name if it was folded into `other`)."""
        if isinstance(data, RunFinished):
            known = {automation for automation, _ in self.counters.runs}
            return _fold(data.automation, known, limit, "automation")
        if isinstance(data, AvailabilityObserved):
            return _fold(data.service, set(self.counters.observed_us), limit, "service")
        return "", None

    def totals_for(self, period: Period) -> PeriodTotals:
        entry = self.periods.get(period.key)
        if entry is None:
            entry = (period, PeriodTotals())
            self.periods[period.key] = entry
        return entry[1]

    def row(self) -> ProjectRow:
        return ProjectRow(self.name, self.partition, self.counters.to_json())

    def period_row(self, key: str) -> PeriodRow:
        period, totals = self.periods[key]
        return PeriodRow(
            self.name, key, period.kind.value, period.start_s, period.end_s, totals.to_json()
        )

    def restore_period(self, row: PeriodRow, period: Period) -> None:
        self.periods[row.key] = (period, PeriodTotals.from_json(row.totals))

    def drop_periods_ended_before(self, moment_s: float) -> None:
        for key in [k for k, (p, _) in self.periods.items() if p.end_s <= moment_s]:
            del self.periods[key]

    @staticmethod
    def kind_of(row: PeriodRow) -> PeriodKind:
        return PeriodKind(row.kind)


def _fold(value: str, known: set[str], limit: int, label: str) -> tuple[str, str | None]:
    if value in known or len(known - {OTHER}) < limit:
        return value, None
    return OTHER, label
