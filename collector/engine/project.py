"""The in-memory state of one project: lifetime counters and per-month totals.

Totals are kept per calendar month whatever the declared period: a quarter is the sum
of its three months, so changing a declaration from month to quarter needs no replay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from collector.engine.aggregates import LifetimeCounters, PeriodTotals
from collector.engine.fields import OPENED, RESOLVED, REVIEW, RUN, USAGE, WINDOW, DataFields
from collector.engine.incidents import Incident, union_within
from collector.engine.periods import Period, PeriodKind, period_containing
from collector.engine.policy import ProjectPolicy, ProjectProfile
from collector.engine.rates import epoch_day
from collector.engine.reviews import ReviewBook
from collector.engine.statements import KeptStatement
from collector.engine.windows import WindowKey, WindowSet, pieces
from collector.state.model import PeriodRow, ProjectRow
from schemas.events import (
    EventData,
)

OTHER = "other"


@dataclass(frozen=True, slots=True)
class IncidentSpan:
    """One incident interval as a report lists it."""

    service: str
    key: str
    incident: Incident
    started_us: int
    ended_us: int | None
    within_us: int
    """How much of it lies in the period asked for."""


_DROPPED_KEPT_S = 400 * 86_400.0
"""Longer than the closed periods kept for the boards (collector.engine.history)."""


@dataclass
class ProjectState:
    """Owned by the engine thread. `partition` is where the project's events arrive."""

    name: str
    partition: int
    counters: LifetimeCounters = field(default_factory=LifetimeCounters)
    months: dict[str, tuple[Period, PeriodTotals]] = field(default_factory=dict)
    windows: dict[tuple[str, str], WindowSet] = field(default_factory=dict, repr=False)
    incidents: dict[tuple[str, str], Incident] = field(default_factory=dict, repr=False)
    """(service, incident key) -> its intervals."""
    review_book: ReviewBook = field(default_factory=ReviewBook, repr=False)
    """Runs remembered for their verdicts; reviews waiting for their run."""
    statements: dict[str, KeptStatement] = field(default_factory=dict, repr=False)
    """Statement -> the lines of its latest version applied (cloud bills)."""
    incidents_revision: int = 0
    """When its incidents last changed (an incident's downtime may lie in earlier months)."""
    dropped: set[Period] = field(default_factory=set, repr=False)
    """Months that left memory (within a year and a quarter): the periods holding them are
    not whole until they are restored."""
    _automations: set[str] = field(default_factory=set, repr=False)
    _services: set[str] = field(default_factory=set, repr=False)
    _models: set[str] = field(default_factory=set, repr=False)
    profile: ProjectProfile | None = field(default=None, repr=False, compare=False)
    """Its profile by `profiled_by`, the policy in force when it was last asked (the
    engine's per-event lookup: a call into the declarations costs ~0.3 µs an event)."""
    profiled_by: ProjectPolicy | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._automations = {automation for automation, _ in self.counters.runs}
        self._automations.update(key[0] for key in self.counters.ai_tokens)
        self._models = {model for _, model in self.counters.ai_calls}
        self._services = set(self.counters.observed_us)
        self._services.update(incident.label for incident in self.incidents.values())

    def label_for(
        self,
        kind: type[EventData],
        fields: DataFields,
        limit: int,
        declared: frozenset[str] = frozenset(),
    ) -> tuple[str, str | None]:
        """(automation or service label, the label name if it was folded into `other`) of
        an event of type `kind` (`fields`: its data's, `fields.fields_of`).

        A `declared` name (the project's declared services) never folds, however many
        undeclared ones came first: its uptime must not disappear into `other`."""
        # types compared by identity: `isinstance` asks pydantic's metaclass
        if kind is RUN or kind is USAGE or kind is REVIEW:
            automation = fields["automation"]
            if automation in self._automations:  # the usual case, without a call
                return automation, None
            return _fold(automation, self._automations, limit, "automation")
        if kind is WINDOW or kind is OPENED or kind is RESOLVED:
            service = fields["service"]
            if service in declared:
                self._services.add(service)
                return service, None
            return _fold(service, self._services, limit, "service")
        return "", None

    def model_label(self, model: str, limit: int) -> tuple[str, str | None]:
        """(model label, `model` if it was folded into `other`): beyond `limit` models a
        project's further ones count under `other`."""
        if model in self._models:
            return model, None
        return _fold(model, self._models, limit, "model")

    def profile_in(self, policy: ProjectPolicy) -> ProjectProfile:
        """`policy`'s profile of this project, kept while that policy is in force (asking
        the declarations is a Python call, ~0.3 µs an event)."""
        profile = self.profile
        if profile is None or self.profiled_by is not policy:
            profile = self.profile = policy.profile(self.name)
            self.profiled_by = policy
        return profile

    def month_totals(self, month: Period, key: str | None = None) -> PeriodTotals:
        """The (mutable) totals of one calendar month (`key`: its key, if at hand), created
        on first use."""
        if key is None:
            key = month.key
        entry = self.months.get(key)
        if entry is None:
            entry = self.months[key] = (month, PeriodTotals())
        return entry[1]

    def observe_window(
        self, key: WindowKey, label: str, downtime_us: int, now_s: float | None
    ) -> tuple[list[str], int, int]:
        """Count window `key` (start and end in it) under service `label`, replacing an
        earlier copy. Returns the months changed and how much the union's observed time
        and downtime grew (the lifetime counters). `now_s`: when it was applied (None:
        replayed from the state store)."""
        changed, observed, downtime = [], 0, 0
        for month, start, end, down in pieces(key[1], key[2], downtime_us):
            totals = self.month_totals(month)
            windows = self._windows_of(month.key, label, totals, seed=now_s is not None)
            before_observed, before_down = windows.totals
            windows.put(key, start, end, down)
            totals.observed_us[label], totals.downtime_us[label] = windows.totals
            observed += totals.observed_us[label] - before_observed
            downtime += totals.downtime_us[label] - before_down
            if now_s is not None:
                totals.note_applied(now_s)
            changed.append(month.key)
        return changed, observed, downtime

    def _windows_of(self, month: str, label: str, totals: PeriodTotals, seed: bool) -> WindowSet:
        windows = self.windows.get((month, label))
        if windows is None:
            windows = self.windows[(month, label)] = WindowSet()
            if seed:  # totals counted before windows were kept one by one
                windows.base_observed_us = totals.observed_us.get(label, 0)
                windows.base_downtime_us = totals.downtime_us.get(label, 0)
        return windows

    def settle_restored_windows(self, stored: dict[tuple[str, str], tuple[int, int]]) -> None:
        """After replaying stored windows: whatever the stored month totals hold beyond
        them (state written before windows were kept one by one) stays as a base."""
        for (month, label), windows in self.windows.items():
            observed, downtime = stored.get((month, label), (0, 0))
            windows.base_observed_us = max(observed - windows.observed_us, 0)
            windows.base_downtime_us = max(downtime - windows.downtime_us, 0)
            totals = self.months[month][1]
            totals.observed_us[label], totals.downtime_us[label] = windows.totals

    def restore_incident(self, key: tuple[str, str], incident: Incident) -> None:
        self.incidents[key] = incident
        self._services.add(incident.label)

    def incident_counts(self) -> tuple[tuple[str, int, int, int], ...]:
        """(service label, open, resolved, pending) for every service with incidents."""
        counts: dict[str, list[int]] = {}
        for incident in self.incidents.values():
            row = counts.setdefault(incident.label, [0, 0, 0])
            row[0] += incident.is_open
            row[1] += incident.resolved
            row[2] += incident.pending
        return tuple((label, *row) for label, row in sorted(counts.items()))  # type: ignore[misc]

    def oldest_open(self) -> tuple[tuple[str, float], ...]:
        """(service label, start of its longest-open incident) of services with one open."""
        oldest: dict[str, int] = {}
        for incident in self.incidents.values():
            for begin, end in incident.intervals:
                if begin is not None and end is None:
                    label = incident.label
                    oldest[label] = min(begin, oldest.get(label, begin))
        return tuple((label, start / 1e6) for label, start in sorted(oldest.items()))

    def incidents_within(self, low_us: int, high_us: int) -> list[IncidentSpan]:
        """Every incident interval overlapping [low, high), by start; an open one runs up
        to `high` (its `ended_us` stays None)."""
        found = []
        for (service, key), incident in self.incidents.items():
            for begin, end in incident.intervals:
                if begin is None or begin >= high_us or (end is not None and end <= low_us):
                    continue
                overlap = min(high_us, high_us if end is None else end) - max(low_us, begin)
                found.append(IncidentSpan(service, key, incident, begin, end, max(overlap, 0)))
        return sorted(found, key=lambda span: (span.started_us, span.service, span.key))

    def incident_downtime_us(self, service: str, low_us: int, high_us: int) -> int:
        """Length of the union of `service`'s incidents within [low, high); an open one
        runs up to `high`."""
        spans = [
            span
            for (name, _), incident in self.incidents.items()
            if name == service
            for span in incident.spans(high_us)
        ]
        return union_within(spans, low_us, high_us)

    def totals_over(self, period: Period) -> PeriodTotals:
        """A fresh sum of the months inside `period` (one month or a quarter)."""
        total = PeriodTotals()
        for month, totals in self.months.values():
            if period.contains_month(month):
                total = total.merged(totals)
        return total

    def row(self) -> ProjectRow:
        return ProjectRow(self.name, self.partition, self.counters.to_json())

    def month_row(self, key: str) -> PeriodRow:
        month, totals = self.months[key]
        return PeriodRow(
            self.name, key, month.kind.value, month.start_s, month.end_s, totals.to_json()
        )

    def restore_month(self, row: PeriodRow, month: Period) -> None:
        self.months[row.key] = (month, PeriodTotals.from_json(row.totals, epoch_day(month.start_s)))
        self.dropped.discard(month)

    def drop_months_ended_before(self, moment_s: float) -> None:
        gone = [k for k, (month, _) in self.months.items() if month.end_s <= moment_s]
        if gone:
            kept_after_s = moment_s - _DROPPED_KEPT_S
            self.dropped = {m for m in self.dropped if m.end_s > kept_after_s}
            self.dropped.update(self.months.pop(key)[0] for key in gone)
        for month_label in [k for k in self.windows if k[0] not in self.months]:
            del self.windows[month_label]


def month_of(row: PeriodRow) -> Period:
    return period_containing(datetime.fromtimestamp(row.start_s, tz=UTC), PeriodKind.MONTH)


def _fold(value: str, known: set[str], limit: int, label: str) -> tuple[str, str | None]:
    """Keep `value` while fewer than `limit` distinct values are known (`known` grows)."""
    if value in known:
        return value, None
    if len(known) - (OTHER in known) < limit:
        known.add(value)
        return value, None
    known.add(OTHER)
    return OTHER, label
