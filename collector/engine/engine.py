"""The aggregation engine: accepted events in, exact state and snapshots out.

Threading: one thread (the pipeline's) calls `apply`, `reject`, `take_changes`,
`restore` and `snapshot`. Snapshots are immutable and may be read anywhere.
Time comes from the injected `clock` so period maths is deterministic in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from collector.engine.aggregates import LifetimeCounters
from collector.engine.formulas import period_result
from collector.engine.health import DelayHistogram, HealthCounters
from collector.engine.periods import Period, period_containing
from collector.engine.policy import DefaultPolicy, ProjectPolicy
from collector.engine.project import ProjectState
from collector.engine.seen import SeenIndex, event_digest
from collector.engine.snapshots import counters_snapshot, health_snapshot
from collector.state.model import LoadedState, StateChanges
from schemas.envelope import EventError, OutcomeEvent, Reason
from schemas.events import AvailabilityObserved, money_currency
from schemas.snapshot import ProjectSnapshot, Snapshot

Clock = Callable[[], datetime]
UNKNOWN_TYPE_LABEL = "unknown"


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class EngineSettings:
    currency: str = "USD"
    grace: timedelta = timedelta(days=7)
    future_tolerance: timedelta = timedelta(minutes=5)
    max_automations_per_project: int = 200
    max_services_per_project: int = 50
    version: str = "0.0.0"


class Engine:
    """Aggregates events per project and period (DESIGN §5) and tracks what changed."""

    def __init__(
        self,
        settings: EngineSettings,
        clock: Clock,
        policy: ProjectPolicy | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self.policy: ProjectPolicy = policy or DefaultPolicy()
        self._projects: dict[str, ProjectState] = {}
        self._seen = SeenIndex()
        self._health = HealthCounters()
        self._delay = DelayHistogram()
        self._dirty_periods: set[tuple[str, str]] = set()
        self._new_seen: list[tuple[bytes, float]] = []
        self._health_dirty = False
        self._snapshots: dict[str, ProjectSnapshot] = {}
        self._stale: set[str] = set()

    # -- ingest -----------------------------------------------------------------

    def apply(self, event: OutcomeEvent, partition: int) -> Verdict:
        """Count one decoded event, or raise `EventError` (future, too_late, currency)."""
        now = self._clock()
        period = self._check_acceptable(event, now)
        digest = event_digest(event.source, event.id)
        if digest in self._seen:
            self._count(event.type.value, Verdict.DUPLICATE)
            return Verdict.DUPLICATE
        forget_after_s = (period.end + self.settings.grace).timestamp()
        self._seen.add(digest, forget_after_s)
        self._new_seen.append((digest, forget_after_s))
        self._aggregate(event, partition, period)
        self._delay.observe((now - event.time).total_seconds())
        self._count(event.type.value, Verdict.ACCEPTED)
        return Verdict.ACCEPTED

    def reject(self, event_type: str | None, reason: Reason) -> None:
        """Count a rejection; `event_type` only when it is one we know (else `unknown`)."""
        self._count(event_type or UNKNOWN_TYPE_LABEL, Verdict.REJECTED)
        self._health.rejected[reason.value] += 1

    def _check_acceptable(self, event: OutcomeEvent, now: datetime) -> Period:
        """The event's period, or `EventError` if the event cannot be counted."""
        currency = money_currency(event.data)
        if currency is not None and currency != self.settings.currency:
            raise EventError(
                Reason.CURRENCY,
                f"data.currency {currency!r} differs from the reporting currency"
                f" {self.settings.currency!r}",
            )
        if event.time > now + self.settings.future_tolerance:
            raise EventError(Reason.FUTURE, f"time {event.time.isoformat()} is in the future")
        period = period_containing(event.time, self.policy.period_kind(event.project))
        if period.end + self.settings.grace <= now:
            raise EventError(
                Reason.TOO_LATE,
                f"time {event.time.isoformat()} is in period {period.key}, closed more than"
                f" the grace window ({self.settings.grace}) ago",
            )
        return period

    def _aggregate(self, event: OutcomeEvent, partition: int, period: Period) -> None:
        project = self._projects.get(event.project)
        if project is None:
            project = self._projects[event.project] = ProjectState(event.project, partition)
        project.partition = partition
        limit = self._label_limit(event)
        label, folded = project.label_for(event.data, limit)
        if folded is not None:
            self._health.overflow[folded] += 1
        project.counters.add(event.data, label, event.time.timestamp())
        project.totals_for(period).add(event.data, label)
        self._dirty_periods.add((event.project, period.key))
        self._stale.add(event.project)

    def _label_limit(self, event: OutcomeEvent) -> int:
        if isinstance(event.data, AvailabilityObserved):
            return self.settings.max_services_per_project
        return self.settings.max_automations_per_project

    def _count(self, event_type: str, verdict: Verdict) -> None:
        self._health.events[(event_type, verdict.value)] += 1
        self._health_dirty = True

    # -- persistence --------------------------------------------------------------

    def take_changes(self) -> StateChanges:
        """What changed since the last call, to be committed with the batch's offsets."""
        projects = {name for name, _ in self._dirty_periods}
        changes = StateChanges(
            projects=tuple(self._projects[name].row() for name in sorted(projects)),
            periods=tuple(
                self._projects[name].period_row(key) for name, key in sorted(self._dirty_periods)
            ),
            seen=tuple(self._new_seen),
            health=self._health.to_json() if self._health_dirty else None,
        )
        self._dirty_periods.clear()
        self._new_seen = []
        self._health_dirty = False
        return changes

    def restore(self, state: LoadedState) -> None:
        """Replace in-memory state with what the store holds (on start or assignment)."""
        self._projects = {
            row.project: ProjectState(
                row.project, row.partition, LifetimeCounters.from_json(row.counters)
            )
            for row in state.projects
        }
        for row in state.periods:
            start = datetime.fromtimestamp(row.start_s, tz=UTC)
            period = period_containing(start, ProjectState.kind_of(row))
            self._projects[row.project].restore_period(row, period)
        self._seen = SeenIndex()
        self._seen.load(state.seen)
        self._health.restore(state.health)
        self._snapshots.clear()
        self._stale = set(self._projects)

    def forget_closed(self) -> StateChanges:
        """Forget seen digests and in-memory periods that can no longer change."""
        now = self._clock()
        horizon_s = (now - self.settings.grace).timestamp()
        for project in self._projects.values():
            project.drop_periods_ended_before(horizon_s)
        if self._seen.forget_before(now.timestamp()):
            return StateChanges(forget_seen_before_s=now.timestamp())
        return StateChanges()

    # -- results ------------------------------------------------------------------

    def snapshot(self, consumer_lag: Iterable[tuple[str, int, int]] = ()) -> Snapshot:
        """An immutable view of every project's counters and current period."""
        now = self._clock()
        for name, project in self._projects.items():
            period = period_containing(now, self.policy.period_kind(name))
            cached = self._snapshots.get(name)
            if name in self._stale or cached is None or cached.period.key != period.key:
                self._snapshots[name] = self._project_snapshot(project, period)
        self._stale.clear()
        return Snapshot(
            taken_at_s=now.timestamp(),
            currency=self.settings.currency,
            projects=tuple(self._snapshots[name] for name in sorted(self._snapshots)),
            health=health_snapshot(
                self.settings.version, self._health, tuple(consumer_lag), self._delay
            ),
        )

    def _project_snapshot(self, project: ProjectState, period: Period) -> ProjectSnapshot:
        totals = project.totals_for(period)
        result = period_result(
            period,
            totals,
            self.policy.hourly_rate(project.name),
            self.policy.services(project.name),
        )
        return ProjectSnapshot(
            name=project.name,
            counters=counters_snapshot(project.counters),
            period=result,
            last_event_time_s=project.counters.last_event_s,
        )

    @property
    def project_count(self) -> int:
        return len(self._projects)

    def seen_count(self) -> int:
        return len(self._seen)
