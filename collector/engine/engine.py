"""The aggregation engine: accepted events in, exact state and snapshots out.

Threading: one thread (the pipeline's) calls `apply`, `reject`, `take_changes`,
`restore` and `snapshot`. `policy` may be replaced from another thread (declaration
reload): the reference swap is atomic and every call reads it once. Snapshots are
immutable and may be read anywhere. Time comes from the injected `clock`, so period
maths is deterministic in tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from collector.engine.admission import (
    Instant,
    MonthCache,
    check_currency,
    future,
    instant_at,
    too_late,
)
from collector.engine.aggregates import (
    REVISIONS,
    LifetimeCounters,
    PeriodTotals,
    micros_of,
    run_micros,
)
from collector.engine.changes import ChangeLog
from collector.engine.evaluate import portfolio, project_snapshot
from collector.engine.incidents import Incident
from collector.engine.ledger import HealthLedger
from collector.engine.periods import (
    Period,
    PeriodKind,
    parse_period_key,
    period_containing,
    quarter_of,
)
from collector.engine.policy import DefaultPolicy, ProjectPolicy, ProjectProfile
from collector.engine.pricing import Catalogue, price_call
from collector.engine.project import OTHER, IncidentSpan, ProjectState, month_of
from collector.engine.rates import SECONDS_PER_DAY, epoch_day
from collector.engine.reviews import PendingReview, RunMemo, apply_verdict
from collector.engine.revisions import next_revision
from collector.engine.seen import SeenIndex, event_digest, legacy_digest
from collector.engine.snapshots import health_snapshot
from collector.engine.statements import (
    KeptStatement,
    StatementShare,
    differences,
    kept_from,
    shares_within,
)
from collector.engine.units import to_micros
from collector.engine.views import ProjectViews
from collector.engine.windows import epoch_us, pieces
from collector.state.model import (
    LoadedState,
    PeriodRow,
    RevisionRow,
    SeenRow,
    StateChanges,
    WindowRow,
)
from schemas.binding import STRUCTURED_CONTENT_TYPE, KafkaRecord, to_structured_dict
from schemas.envelope import EventError, OutcomeEvent, Reason
from schemas.events import (
    AiUsage,
    AvailabilityObserved,
    CostIncurred,
    CostStatement,
    EventType,
    IncidentOpened,
    IncidentResolved,
    ReviewRecorded,
    RunFinished,
    SavingsRealized,
)
from schemas.snapshot import HealthSnapshot, ProjectSnapshot, Snapshot

Clock = Callable[[], datetime]
Archive = Callable[[str, str], PeriodRow | None]
"""(project, month key) -> that month as stored, or None: months no longer held in memory."""
UNKNOWN_TYPE_LABEL = "unknown"
STRUCTURED: Final = ("content-type", STRUCTURED_CONTENT_TYPE.encode())
_LONGEST_PERIOD = timedelta(days=92)
_NEVER = 1e12
"""forget-after of what is remembered for good (history): far beyond any clock."""


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


# plain strings for the per-event hot path (an enum's .value is a descriptor call)
_ACCEPTED, _DUPLICATE, _REJECTED = (verdict.value for verdict in Verdict)
_TYPE_NAMES: Final = {event_type: event_type.value for event_type in EventType}


@dataclass(frozen=True, slots=True)
class EngineSettings:
    currency: str = "USD"
    grace: timedelta = timedelta(days=7)
    future_tolerance: timedelta = timedelta(minutes=5)
    max_automations_per_project: int = 200
    max_services_per_project: int = 50
    max_models_per_project: int = 50
    """Models beyond this many per project count under `other` (AI usage)."""
    price_catalogue: bool = True
    """Price model calls with the public catalogue when the reporting currency is USD."""
    max_projects: int = 10_000
    """Undeclared projects beyond this many (per instance) fold into project `other`."""
    refresh_s: float = 5.0
    """How stale a project's projections may get without new events (they move with time)."""
    version: str = "0.0.0"


class Engine:
    """Aggregates events per project and month (docs/REFERENCE.md#formulas); tracks changes."""

    def __init__(
        self,
        settings: EngineSettings,
        clock: Clock,
        policy: ProjectPolicy | None = None,
        *,
        archive: Archive = lambda project, key: None,
    ) -> None:
        """`archive`: a month as stored, for one no longer in memory (a history import
        reopens it); without one such a month starts afresh."""
        self.settings = settings
        self._clock = clock
        self.policy: ProjectPolicy = policy or DefaultPolicy()
        self._projects: dict[str, ProjectState] = {}
        self._seen: dict[int, SeenIndex] = {}
        self.ledger = HealthLedger(since_s=clock().timestamp())
        self.changes = ChangeLog(settings.grace)
        self.views = ProjectViews(settings.refresh_s)
        self._legacy_seen_until_s = 0.0
        self._declared_since: dict[str, float] = {}
        """project -> when its declaration first took effect (as stored, or first seen here)."""
        self._revisions: dict[str, list[RevisionRow]] = {}
        """project -> its declaration history, oldest first (as stored, then appended)."""
        self._archive = archive
        self._grace_s = settings.grace.total_seconds()
        self._months = MonthCache(clock())
        self._catalogue: Catalogue | None = None
        """Built on the first call it must price (loading it takes ~0.3 s)."""
        self._unmatched: list[tuple[int, PendingReview]] = []
        """(partition, review) whose run never came: to be dead-lettered `unmatched`."""

    # -- ingest -----------------------------------------------------------------

    def instant(self) -> Instant:
        """Now, by the engine's clock, for `apply` and `reject`."""
        settings = self.settings
        return instant_at(self._clock(), settings.grace, settings.future_tolerance)

    def apply(self, event: OutcomeEvent, partition: int, at: Instant | None = None) -> Verdict:
        """Count one decoded event, or raise `EventError` (future, too_late, currency).

        `at`: the batch's instant; the clock is read when it is omitted.

        The per-event hot path: each step once, in the order of the rules (currency,
        future, too late, duplicate, then counted), with what several steps need (the
        event's month and quarter, its project's profile) looked up once. Times are
        compared as epoch seconds: exact for datetimes (whole microseconds)."""
        at = at or self.instant()
        data = event.data
        moment = event.time
        event_s = moment.timestamp()
        kind = type(data)
        if (
            kind is RunFinished
            or kind is CostIncurred
            or kind is SavingsRealized
            or kind is AiUsage
            or kind is CostStatement
        ):
            check_currency(data.currency, self.settings.currency)  # type: ignore[union-attr]
        if event_s > at.future_limit_s:
            raise future(moment, self.settings.future_tolerance)
        project_name = data.project
        profile = self.policy.profile(project_name)
        month, quarter = self._months.of(moment, event_s)
        period = month if profile.period_kind is PeriodKind.MONTH else quarter
        if period.end_s <= at.closed_before_s and not event.backfill:
            raise too_late(moment, period, self.settings.grace)
        digest = event_digest(project_name, event.source, event.id)
        seen = self._seen.get(partition)
        if seen is None:
            seen = self._seen[partition] = SeenIndex()
        event_type = _TYPE_NAMES[event.type]
        now_s = at.now_s
        if seen.recognises(digest, now_s) or (
            now_s < self._legacy_seen_until_s
            and seen.recognises(legacy_digest(event.source, event.id), now_s)
        ):
            self.ledger.count(partition, event_type, _DUPLICATE, now_s)
            return Verdict.DUPLICATE
        if kind is IncidentResolved or kind is ReviewRecorded:
            self._check_pairing(event)
        # how long a copy counts as a duplicate: as long as any period it could belong to
        # accepts it, whatever the declaration says later: the end of its quarter (the
        # longest period kind) plus the grace window (a project that switches from month
        # to quarter must not re-admit a copy of last month's event). History (backfill)
        # is remembered for good: a second import of the same file counts nothing.
        forget_after_s = _NEVER if event.backfill else quarter.end_s + self._grace_s
        seen.add(digest, forget_after_s)
        self.changes.seen.append(SeenRow(digest, partition, forget_after_s))
        name = self._project_name(project_name, partition)
        if name is not project_name:
            profile = self.policy.profile(name)
        # runs are remembered for their reviews while their period accepts events; a review
        # waits for its run while the review's own period does (a run comes before its review)
        waits_for = period if kind is ReviewRecorded else quarter
        remember_s = max(waits_for.end_s, now_s if event.backfill else 0.0) + self._grace_s
        self._aggregate(
            event,
            name,
            profile,
            partition,
            month,
            now_s=now_s,
            event_s=event_s,
            forget_after_s=forget_after_s,
            remember_s=remember_s,
        )
        # counted per batch (`HealthLedger.settle`): a dict entry and a list item, not two calls
        ledger = self.ledger
        accepted = ledger.accepted
        if not accepted:
            ledger.accepted_since_s = now_s
        key = (partition, event_type)
        accepted[key] = accepted.get(key, 0) + 1
        ledger.delays.append(now_s - event_s)
        return Verdict.ACCEPTED

    def note(self, event_type: str, result: str, partition: int, at: Instant) -> None:
        """Count a record that was neither applied nor rejected: a tool's record that was
        `translated` into outcome events (counted again when they arrive) or `ignored`."""
        self.ledger.count(partition, event_type, result, at.now_s)

    def reject(
        self,
        event_type: str | None,
        reason: Reason,
        partition: int = 0,
        at: Instant | None = None,
    ) -> None:
        """Count a rejection; `event_type` only when it is one we know (else `unknown`)."""
        now_s = at.now_s if at is not None else self._clock().timestamp()
        self.ledger.count(partition, event_type or UNKNOWN_TYPE_LABEL, _REJECTED, now_s)
        self.ledger.of(partition).rejected[reason.value] += 1

    def _aggregate(
        self,
        event: OutcomeEvent,
        name: str,
        profile: ProjectProfile,
        partition: int,
        month: Period,
        *,
        now_s: float,
        event_s: float,
        forget_after_s: float,
        remember_s: float,
    ) -> None:
        """Add an accepted event to its project (`name`: the event's, or `other`) and to
        the calendar month it lies in (a review: to its run's month)."""
        data = event.data
        project = self._projects.get(name)
        if project is None:
            project = self._projects[name] = ProjectState(name, partition)
        project.partition = partition
        counters = project.counters
        if counters.last_received_s is None or now_s > counters.last_received_s:
            counters.last_received_s = now_s
        kind = type(data)
        counters.note_input(kind, event_s)
        limit = (
            self.settings.max_services_per_project
            if kind is AvailabilityObserved
            else self.settings.max_automations_per_project
        )
        label, folded = project.label_for(data, limit, profile.services or frozenset())
        if folded is not None:
            self.ledger.of(partition).overflow[folded] += 1
        self.views.stale.add(name)
        if event.backfill:
            self._reopen(project, event, month)
        if kind is AvailabilityObserved or kind is ReviewRecorded or kind is CostStatement:
            self._apply_elsewhere(
                project,
                event,
                label,
                now_s=now_s,
                event_s=event_s,
                forget_after_s=forget_after_s,
                remember_s=remember_s,
            )
            return
        totals = project.month_totals(month)
        totals.note_applied(now_s)
        self.changes.months.add((name, month.key))
        if kind is RunFinished:  # most events: their numbers and day computed once
            micros = run_micros(data)  # type: ignore[arg-type]
            outcome, day = data.outcome, epoch_day(event_s)  # type: ignore[union-attr]
            project.counters.add_run(label, outcome, micros, event_s, day)
            totals.add_run(outcome, micros, day, label)
            memo = RunMemo(month.key, day, outcome, micros[1], remember_s)
            self._remember(project, event.id, memo, totals)
            return
        if kind is IncidentOpened or kind is IncidentResolved:
            # the month it lands in is marked applied: a late one restates a closed period
            self._incident(project, data, label, event_s)  # type: ignore[arg-type]
            return
        if kind is AiUsage:
            self._usage(project, data, label, totals, event_s)  # type: ignore[arg-type]
            return
        micros = micros_of(data)
        project.counters.add(data, label, micros, event_s)
        totals.add(data, micros, event_s)

    def _apply_elsewhere(
        self,
        project: ProjectState,
        event: OutcomeEvent,
        label: str,
        *,
        now_s: float,
        event_s: float,
        forget_after_s: float,
        remember_s: float,
    ) -> None:
        """The events whose numbers do not lie in the event's own month: availability (its
        window), a review (its run's month), a statement (each line's day)."""
        data = event.data
        if isinstance(data, AvailabilityObserved):
            self._observe(
                project, data, label, now_s=now_s, event_s=event_s, forget_after_s=forget_after_s
            )
        elif isinstance(data, ReviewRecorded):
            self._review(project, event, label, now_s=now_s, remember_s=remember_s)
        elif isinstance(data, CostStatement):
            self._statement(project, data, now_s, event_s)

    def _remember(
        self, project: ProjectState, run_id: str, memo: RunMemo, totals: PeriodTotals
    ) -> None:
        """Remember a run for its review; apply the review that waited for it."""
        remembered, waiting = project.review_book.remember(run_id, memo)
        if not remembered:
            return
        runs = self.changes.runs
        key = (project.partition, memo.forget_after_s)
        batch = runs.get(key)
        if batch is None:
            batch = runs[key] = []
        batch.append(memo.to_row(project.name, run_id))
        if waiting is not None:
            apply_verdict(memo, waiting, totals, project.counters)
            self.changes.reviews.add((project.name, run_id))

    def _check_pairing(self, event: OutcomeEvent) -> None:
        data = event.data
        if isinstance(data, IncidentResolved):
            self._check_resolution(event, data)
        elif isinstance(data, ReviewRecorded):
            self._check_review(data)

    def _check_review(self, data: ReviewRecorded) -> None:
        """A review of another project's run is refused `invalid` (before it is marked
        seen). Known only when that run is held here (same instance)."""
        own = self._projects.get(data.project)
        subject = data.subject
        if own is not None and subject in own.review_book.runs:
            return
        for other in self._projects.values():
            if other.name != data.project and subject in other.review_book.runs:
                raise EventError(
                    Reason.INVALID,
                    f"run {subject!r} is a run of project {other.name!r}, not {data.project!r}",
                )

    def _review(
        self,
        project: ProjectState,
        event: OutcomeEvent,
        label: str,
        *,
        now_s: float,
        remember_s: float,
    ) -> None:
        """A verdict on a run (docs/REFERENCE.md#human-review): applied in the run's month,
        or kept until the run arrives."""
        data: ReviewRecorded = event.data  # type: ignore[assignment]
        effort_us = to_micros(data.human_effort_s) if data.human_effort_s else 0
        event_s = event.time.timestamp()
        counters = project.counters
        counters.note_time(event_s)
        counters.reviews[(label, data.verdict)] += 1
        counters.human_effort_us += effort_us
        review = PendingReview(
            data.verdict, effort_us, event_s, remember_s, to_structured_dict(event)
        )
        book = project.review_book
        memo = book.runs.get(data.subject)
        self.changes.reviews.add((project.name, data.subject))
        if memo is None:
            book.wait(data.subject, review)
            return
        month = parse_period_key(memo.month)
        totals = project.month_totals(month)
        if apply_verdict(memo, review, totals, counters):
            totals.note_applied(now_s)
            self.changes.months.add((project.name, memo.month))

    def _statement(
        self, project: ProjectState, data: CostStatement, now_s: float, event_s: float
    ) -> None:
        """A cloud bill's statement (collector.engine.statements): the difference to the
        version applied before, line by line, in each line's month (brought back from the
        archive first when it left memory) and in the lifetime counters."""
        kept = project.statements.get(data.statement)
        if kept is not None and not kept.replaced_by(data):
            return  # the same statement again, or an older one: nothing changes
        new = kept_from(data)
        counters = project.counters
        changed = list(differences(kept.lines if kept else {}, new.lines))
        months = {
            day: period_containing(
                datetime.fromtimestamp(day * SECONDS_PER_DAY, tz=UTC), PeriodKind.MONTH
            )
            for day, _, _ in changed
        }
        self._bring_back(project, set(months.values()))
        for day, category, delta in changed:
            month = months[day]
            totals = project.month_totals(month)
            totals.cost_n[category] += delta
            totals.note_applied(now_s)
            self.changes.months.add((project.name, month.key))
            if delta > 0:
                counters.cost_n[category] += delta
            else:
                counters.credit_n[category] -= delta
        counters.note_time(event_s)
        project.statements[data.statement] = new
        self.changes.statements.add((project.name, data.statement))

    def _usage(
        self,
        project: ProjectState,
        usage: AiUsage,
        label: str,
        totals: PeriodTotals,
        event_s: float,
    ) -> None:
        """Price a model call (docs/REFERENCE.md#ai-cost) and count it: tokens, calls, its
        cost as AI cost of the project, or an unpriced call."""
        model, folded = project.model_label(usage.model, self.settings.max_models_per_project)
        if folded is not None:
            self.ledger.of(project.partition).overflow[folded] += 1
        priced = price_call(usage, event_s, self.policy.prices, self._price_catalogue())
        project.counters.add_usage(label, model, usage, priced, event_s)
        totals.add_usage(priced.cost)

    def _price_catalogue(self) -> Catalogue | None:
        settings = self.settings
        if self._catalogue is None and settings.price_catalogue and settings.currency == "USD":
            # imported here: genai-prices loads its snapshot (~0.3 s) only for AI events
            from collector.engine.catalogue import PriceCatalogue  # noqa: PLC0415

            self._catalogue = PriceCatalogue()
        return self._catalogue

    def _reopen(self, project: ProjectState, event: OutcomeEvent, month: Period) -> None:
        """Before history is applied: bring back from the archive each month it lands in
        that is no longer in memory (else its stored totals would be overwritten), and mark
        them backfilled."""
        data = event.data
        if isinstance(data, AvailabilityObserved):
            start_us, end_us = epoch_us(data.window_start), epoch_us(data.window_end)
            months = [m for m, *_ in pieces(start_us, end_us, 0)]
        else:
            months = [month]
        self._bring_back(project, months)
        for touched in months:
            project.month_totals(touched).backfilled += 1

    def _bring_back(self, project: ProjectState, months: Iterable[Period]) -> None:
        """Restore from the archive each of `months` that is no longer in memory (else its
        stored totals would be overwritten) and the other months of its quarter that left
        memory, so that the quarter's figures can be restated whole
        (collector.engine.history)."""
        months = list(months)
        quarters = {quarter_of(touched) for touched in months}
        siblings = [m for m in project.dropped if quarter_of(m) in quarters]
        for touched in [*months, *siblings]:
            if touched.key not in project.months:
                stored = self._archive(project.name, touched.key)
                if stored is not None:
                    project.restore_month(stored, touched)

    def _check_resolution(self, event: OutcomeEvent, data: IncidentResolved) -> None:
        """A resolution that ends before its open incident started is refused `invalid`
        (before it is marked seen: nothing of it is counted)."""
        project = self._projects.get(data.project)
        incident = None if project is None else project.incidents.get((data.service, data.incident))
        if incident is None:
            return
        started = None if data.started_at is None else epoch_us(data.started_at)
        problem = incident.resolution_conflict(epoch_us(event.time), started)
        if problem is not None:
            raise EventError(Reason.INVALID, f"incident {data.incident!r}: {problem}")

    def _incident(
        self,
        project: ProjectState,
        data: IncidentOpened | IncidentResolved,
        label: str,
        event_s: float,
    ) -> None:
        """Pair an incident's events (docs/REFERENCE.md#formulas, incidents basis)."""
        key = (data.service, data.incident)
        incident = project.incidents.get(key)
        if incident is None:
            incident = Incident(label)
            project.restore_incident(key, incident)
        moment_us = round(event_s * 1e6)
        if isinstance(data, IncidentOpened):
            incident.open_at(moment_us)
        else:
            started = None if data.started_at is None else epoch_us(data.started_at)
            incident.resolve_at(moment_us, started)
            incident.resolved_by = data.resolved_by or incident.resolved_by
        incident.title = data.title or incident.title
        incident.severity = data.severity or incident.severity
        project.counters.note_time(event_s)
        project.incidents_revision = next(REVISIONS)
        self.changes.incidents.add((project.name, *key))

    def _observe(
        self,
        project: ProjectState,
        data: AvailabilityObserved,
        label: str,
        *,
        now_s: float,
        event_s: float,
        forget_after_s: float,
    ) -> None:
        """A window counts in its service's union per month (REFERENCE.md#formulas)."""
        key = (data.service, epoch_us(data.window_start), epoch_us(data.window_end))
        downtime_us = to_micros(data.downtime_s)
        months, observed, downtime = project.observe_window(key, label, downtime_us, now_s)
        project.counters.add_window(label, observed, downtime, event_s)
        self.changes.months.update((project.name, month) for month in months)
        self.changes.windows.append(
            WindowRow(project.name, label, *key, downtime_us, forget_after_s)
        )

    def _project_name(self, project: str, partition: int) -> str:
        """`project`, or `other` once the instance holds `max_projects` undeclared ones."""
        if project in self._projects or len(self._projects) < self.settings.max_projects:
            return project
        if self.policy.profile(project).declared:
            return project
        self.ledger.of(partition).overflow["project"] += 1
        return OTHER

    # -- persistence --------------------------------------------------------------

    def take_changes(self) -> StateChanges:
        """What changed since the last call, to be committed with the batch's offsets."""
        self.ledger.settle()
        return self.changes.take(self._projects, self.ledger.take_rows())

    def take_declared(self) -> StateChanges:
        """Declarations that took effect since the last call (written even without events)."""
        return self.changes.take_declared()

    def adopt(self, state: LoadedState, partitions: Iterable[int]) -> None:
        """Take over `partitions` with the state the store holds for them."""
        partitions = list(partitions)
        self.ledger.adopt(partitions, state.health)
        for partition in partitions:
            self._seen[partition] = SeenIndex()
        for row in state.projects:
            counters = LifetimeCounters.from_json(row.counters)
            self._projects[row.project] = ProjectState(row.project, row.partition, counters)
            self.views.forget(row.project)
        for period in state.periods:
            if period.project in self._projects:
                self._projects[period.project].restore_month(period, month_of(period))
        self._replay_windows(state.windows)
        for kept in state.incidents:
            if kept.project in self._projects:
                self._projects[kept.project].restore_incident(
                    (kept.service, kept.incident), Incident.from_json(kept.data)
                )
        self._restore_reviews(state)
        for statement_row in state.statements:
            if statement_row.project in self._projects:
                self._projects[statement_row.project].statements[statement_row.statement] = (
                    KeptStatement.from_json(statement_row.data)
                )
        self._legacy_seen_until_s = max(self._legacy_seen_until_s, state.legacy_seen_until_s)
        self._declared_since.update(state.declared)
        self._adopt_revisions(state.revisions)
        for seen in state.seen:
            self._seen.setdefault(seen.partition, SeenIndex()).add(seen.digest, seen.forget_after_s)

    def _restore_reviews(self, state: LoadedState) -> None:
        """Remembered runs and their verdicts (whose effect the stored months hold already),
        and reviews still waiting for their run."""
        projects, now_s = self._projects, self._clock().timestamp()
        for batch in state.runs:
            if batch.forget_after_s <= now_s:  # forgotten already (its rows not yet deleted)
                continue
            for name, run_id, month, day, outcome, manual_us in batch.runs:
                project = projects.get(name)
                if project is not None:
                    memo = RunMemo(month, day, outcome, manual_us, batch.forget_after_s)
                    project.review_book.runs.setdefault(run_id, memo)
        for row in state.reviews:
            project = projects.get(row.project)
            if project is not None:
                project.review_book.restore(row.subject, row.data, row.forget_after_s)

    def _replay_windows(self, rows: Iterable[WindowRow]) -> None:
        """Rebuild the adopted projects' window sets from the stored windows."""
        replayed: dict[str, ProjectState] = {}
        stored: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}
        for row in rows:
            project = self._projects.get(row.project)
            if project is None:
                continue
            if row.project not in replayed:
                replayed[row.project] = project
                stored[row.project] = {
                    (key, label): (totals.observed_us[label], totals.downtime_us.get(label, 0))
                    for key, (_, totals) in project.months.items()
                    for label in totals.observed_us
                }
            key = (row.service, row.start_us, row.end_us)
            project.observe_window(key, row.label, row.downtime_us, None)
        for name, project in replayed.items():
            project.settle_restored_windows(stored[name])

    def _adopt_revisions(self, rows: Iterable[RevisionRow]) -> None:
        """The stored histories: a project's stored history as long as the one here or
        longer replaces it (another instance may have appended since)."""
        stored: dict[str, list[RevisionRow]] = {}
        for row in rows:
            stored.setdefault(row.project, []).append(row)
        for name, history in stored.items():
            if len(history) >= len(self._revisions.get(name, ())):
                self._revisions[name] = history

    def revisions(self, project: str) -> list[RevisionRow]:
        """`project`'s declaration history known here, oldest first."""
        return list(self._revisions.get(project, ()))

    def _revise(self, name: str, profile: ProjectProfile, now_s: float) -> RevisionRow | None:
        """The project's latest revision, appending one when its declaration changed."""
        history = self._revisions.setdefault(name, [])
        if profile.digest is not None:
            added = next_revision(history, name, profile.document, profile.digest, now_s)
            if added is not None:
                history.append(added)
                self.changes.revisions.append(added)
        return history[-1] if history else None

    def restore(self, state: LoadedState) -> None:
        """Adopt everything in `state` (a single instance owning every partition)."""
        self.adopt(state, state.partitions)

    def release(self, partitions: Iterable[int]) -> None:
        """Forget `partitions` (revoked): their projects are no longer exported here."""
        gone = set(partitions)
        self.ledger.release(gone)
        for name in [n for n, p in self._projects.items() if p.partition in gone]:
            del self._projects[name]
            self.views.forget(name)
        for partition in gone:
            self._seen.pop(partition, None)

    def forget_closed(self) -> StateChanges:
        """Forget seen digests and in-memory months that can no longer change."""
        now = self._clock()
        horizon_s = (now - self.settings.grace - _LONGEST_PERIOD).timestamp()
        now_s = now.timestamp()
        expired = False
        for project in self._projects.values():
            if any(month.end_s <= horizon_s for month, _ in project.months.values()):
                self._keep_history(project, now)
            project.drop_months_ended_before(horizon_s)
            book = project.review_book
            remembered = len(book.runs) + len(book.pending)
            for review in book.forget_before(now_s):
                self._unmatched.append((project.partition, review))
            expired = expired or remembered != len(book.runs) + len(book.pending)
        forgotten = [seen.forget_before(now_s) for seen in self._seen.values()]
        if any(forgotten) or expired:
            return StateChanges(forget_seen_before_s=now_s)
        return StateChanges()

    def _keep_history(self, project: ProjectState, now: datetime) -> None:
        """Evaluate the project's closed periods while all their months are in memory."""
        name, policy = project.name, self.policy
        profile = policy.profile(name)
        since = self._declared_since.get(name) if profile.declared else None
        self.views.history.of(project, profile, now, since, policy.version)

    def take_unmatched(self) -> list[tuple[int, KafkaRecord, str]]:
        """Reviews whose run never came (`forget_closed` found them), as (partition, the
        review as a structured CloudEvent record, why), counted as rejected `unmatched`;
        the caller dead-letters them before it commits."""
        taken, self._unmatched = self._unmatched, []
        letters = []
        for partition, review in taken:
            self.reject(EventType.REVIEW_RECORDED.value, Reason.UNMATCHED, partition)
            event = review.event
            data = event.get("data", {})
            value = json.dumps(event, separators=(",", ":")).encode()
            record = KafkaRecord(str(data.get("project", "")).encode(), [STRUCTURED], value)
            why = (
                f"no run {data.get('subject')!r} of project {data.get('project')!r} arrived"
                " while its period accepted events"
            )
            letters.append((partition, record, why))
        return letters

    # -- results ------------------------------------------------------------------

    def snapshot(
        self,
        consumer_lag: Iterable[tuple[str, int, int]] = (),
        owns: Callable[[str], bool] = lambda project: True,
    ) -> Snapshot:
        """An immutable view of every project (seen or declared) and the portfolio.
        `owns`: whether this instance exports a declared project that has no events yet
        (it holds the partition its events would land on)."""
        self.ledger.settle()
        now, policy, tick = self._clock(), self.policy, time.monotonic()
        declared = {name for name in policy.declared_projects() if owns(name)}
        for name in declared - self._declared_since.keys():
            self._declared_since[name] = now.timestamp()
            self.changes.declared.append((name, now.timestamp()))
        names = sorted(set(self._projects) | declared)
        now_s = now.timestamp()
        projects = tuple(
            self.views.view(
                self._projects.get(name) or ProjectState(name, -1), policy, now, tick,
                self._declared_since.get(name),
                revision=self._revise(name, policy.profile(name), now_s)
                if name in declared else None,
            )
            for name in names
        )  # fmt: skip
        self.views.stale.clear()
        ledger = self.ledger
        return Snapshot(
            taken_at_s=now.timestamp(),
            currency=self.settings.currency,
            projects=projects,
            health=health_snapshot(
                self.settings.version, ledger.merged(), tuple(consumer_lag), ledger.delay
            ),
            portfolio=portfolio(projects),
        )

    def partition_health(self) -> dict[int, HealthSnapshot]:
        """The health counters of each partition held (a collector with several workers
        keeps each partition's latest, so its sums never fall when partitions move)."""
        return self.ledger.per_partition(self.settings.version)

    def period_view(self, name: str, period: Period, at: datetime | None = None) -> ProjectSnapshot:
        """Results of one project over any period (current or closed), for reports,
        evaluated now or `at` another moment."""
        state = self._projects.get(name) or ProjectState(name, -1)
        profile = self.policy.profile(name)
        since = self._declared_since.get(name) if profile.declared else None
        now = self._clock() if at is None else at
        return project_snapshot(state, profile, period, now, declared_since_s=since)

    def incidents_in(self, name: str, period: Period) -> list[IncidentSpan]:
        """The project's incidents in `period` (up to now while it runs), for reports."""
        state = self._projects.get(name)
        if state is None:
            return []
        high_s = min(self._clock().timestamp(), period.end_s)
        return state.incidents_within(round(period.start_s * 1e6), round(high_s * 1e6))

    def statements_in(self, name: str, period: Period) -> list[StatementShare]:
        """The cloud bill statements the project's cost in `period` rests on, for reports."""
        state = self._projects.get(name)
        if state is None:
            return []
        return shares_within(state.statements, period.start_s, period.end_s)

    def project_names(self) -> list[str]:
        return sorted(set(self._projects) | set(self.policy.declared_projects()))

    @property
    def project_count(self) -> int:
        return len(self._projects)

    def seen_count(self) -> int:
        return sum(len(seen) for seen in self._seen.values())
