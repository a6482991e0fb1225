"""The aggregation engine: accepted events in, exact state and snapshots out.

Threading: one thread (the pipeline's) calls `apply`, `reject`, `take_changes`,
`restore` and `snapshot`. `policy` may be replaced from another thread (declaration
reload): the reference swap is atomic and every call reads it once. Snapshots are
immutable and may be read anywhere. Time comes from the injected `clock`, so period
maths is deterministic in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Final

from collector.engine import kinds
from collector.engine.admission import (
    Instant,
    MonthCache,
    Verdict,
    check_currency,
    future,
    instant_at,
    too_late,
)
from collector.engine.adoption import adopt_projects
from collector.engine.aggregates import PeriodTotals, micros_of
from collector.engine.catalogue_loader import CatalogueOnDemand
from collector.engine.changes import ChangeLog
from collector.engine.evaluate import portfolio, project_snapshot
from collector.engine.fields import (
    COST,
    OPENED,
    RESOLVED,
    REVIEW,
    RUN,
    SAVING,
    STATEMENT,
    USAGE,
    WINDOW,
    DataFields,
    fields_of,
    run_fields,
)
from collector.engine.kinds import Archive
from collector.engine.ledger import HealthLedger
from collector.engine.periods import Period, PeriodKind
from collector.engine.policy import DefaultPolicy, ProjectPolicy, ProjectProfile
from collector.engine.pricing import price_call
from collector.engine.project import OTHER, IncidentSpan, ProjectState
from collector.engine.reviews import PendingReview, RunMemo
from collector.engine.revisions import Declarations
from collector.engine.run_counts import count_run
from collector.engine.seen import SeenIndex, event_digest, legacy_digest
from collector.engine.settings import EngineSettings
from collector.engine.snapshots import health_snapshot
from collector.engine.statements import StatementShare, shares_within
from collector.engine.views import ProjectViews
from collector.state.model import LoadedState, RevisionRow, StateChanges
from schemas.binding import KafkaRecord
from schemas.envelope import OutcomeEvent, Reason
from schemas.events import (
    AiUsage,
    EventType,
)
from schemas.snapshot import HealthSnapshot, ProjectSnapshot, Snapshot

Clock = Callable[[], datetime]
UNKNOWN_TYPE_LABEL = "unknown"
_LONGEST_PERIOD = timedelta(days=92)
_NEVER: Final = 1e12
"""forget-after of what is remembered for good (history): far beyond any clock."""


# Constants of the per-event hot path, each `Final` (kept in C by mypyc: see
# `collector.engine.fields`). Plain strings: an enum's .value is a descriptor call; members
# read off their enum class cost as much as a dict lookup (3.11).
_ACCEPTED: Final = Verdict.ACCEPTED.value
_DUPLICATE: Final = Verdict.DUPLICATE.value
_REJECTED: Final = Verdict.REJECTED.value
_TYPE_NAMES: Final = {event_type: event_type.value for event_type in EventType}
_VERDICT_ACCEPTED: Final = Verdict.ACCEPTED
_VERDICT_DUPLICATE: Final = Verdict.DUPLICATE
_RUN_MEMO: Final = RunMemo
_MONTHLY: Final = PeriodKind.MONTH
_NO_SERVICES: Final[frozenset[str]] = frozenset()
_new: Final = tuple.__new__
"""Makes a run's `RunMemo` from all its fields without a call to its `__new__`."""


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
        self._stale = self.views.stale  # (kept at hand: the views are a Python class)
        self._limits = (settings.max_automations_per_project, settings.max_services_per_project)
        self._legacy_seen_until_s = 0.0
        self.declarations = Declarations()
        self._archive = archive
        self._grace_s = settings.grace.total_seconds()
        self._months = MonthCache(clock())
        self._catalogue = CatalogueOnDemand(settings.price_catalogue and settings.currency == "USD")
        self._unmatched: list[tuple[int, PendingReview]] = []
        """(partition, review) whose run never came: to be dead-lettered `unmatched`."""

    # -- ingest -----------------------------------------------------------------

    def instant(self) -> Instant:
        """Now, by the engine's clock, for `apply` and `reject`."""
        settings = self.settings
        return instant_at(self._clock(), settings.grace, settings.future_tolerance)

    def apply(
        self,
        event: OutcomeEvent,
        partition: int,
        at: Instant | None = None,
        event_s: float | None = None,
    ) -> Verdict:
        """Count one decoded event, or raise `EventError` (future, too_late, currency).

        `at`: the batch's instant; the clock is read when it is omitted. `event_s`: the
        event time in epoch seconds if the decoder has it (`event.time.timestamp()`).

        The per-event hot path: each step once, in the order of the rules (currency,
        future, too late, duplicate, then counted), with what several steps need (the
        event's month and quarter, its project's profile) looked up once. Times are
        compared as epoch seconds: exact for datetimes (whole microseconds)."""
        at = at or self.instant()
        data = event.data
        fields = fields_of(data)  # read as attributes, each field costs 4x (pydantic's hook)
        moment = event.time
        event_s = moment.timestamp() if event_s is None else event_s
        kind = type(data)
        if kind is RUN or kind is COST or kind is SAVING or kind is USAGE or kind is STATEMENT:
            currency = fields["currency"]
            if currency is not None and currency != self.settings.currency:
                check_currency(currency, self.settings.currency)
        if event_s > at.future_limit_s:
            raise future(moment, self.settings.future_tolerance)
        project_name: str = fields["project"]
        policy = self.policy  # read once: a reload may replace it meanwhile
        known = self._projects.get(project_name)
        profile = policy.profile(project_name) if known is None else known.profile_in(policy)
        month, quarter, month_end_s, quarter_end_s, month_key = self._months.of(moment, event_s)
        monthly = profile.period_kind is _MONTHLY
        period, period_end_s = (month, month_end_s) if monthly else (quarter, quarter_end_s)
        if period_end_s <= at.closed_before_s and not event.backfill:
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
            return _VERDICT_DUPLICATE
        if kind is RESOLVED or kind is REVIEW:
            kinds.check_pairing(self._projects, event)
        # how long a copy counts as a duplicate: as long as any period it could belong to
        # accepts it, whatever the declaration says later: the end of its quarter (the
        # longest period kind) plus the grace window (a project that switches from month
        # to quarter must not re-admit a copy of last month's event). History (backfill)
        # is remembered for good: a second import of the same file counts nothing.
        forget_after_s = _NEVER if event.backfill else quarter_end_s + self._grace_s
        seen.add(digest, forget_after_s)
        self.changes.note_seen(partition, forget_after_s, digest)
        name = self._project_name(project_name, partition)
        if name is not project_name:
            profile = self.policy.profile(name)
        # runs are remembered for their reviews while their period accepts events; a review
        # waits for its run while the review's own period does (a run comes before its review)
        waits_until_s = period_end_s if kind is REVIEW else quarter_end_s
        remember_s = max(waits_until_s, now_s if event.backfill else 0.0) + self._grace_s
        self._aggregate(
            event, fields, name, profile, partition, month=month, month_key=month_key,
            now_s=now_s, event_s=event_s, forget_after_s=forget_after_s, remember_s=remember_s,
        )  # fmt: skip
        # counted per batch (`HealthLedger.settle`): a dict entry and a list item, not two calls
        ledger = self.ledger
        accepted = ledger.accepted
        if not accepted:
            ledger.accepted_since_s = now_s
        key = (partition, event_type)
        accepted[key] = accepted.get(key, 0) + 1
        ledger.delays.append(now_s - event_s)
        return _VERDICT_ACCEPTED

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
        fields: DataFields,
        name: str,
        profile: ProjectProfile,
        partition: int,
        *,
        month: Period,
        month_key: str,
        now_s: float,
        event_s: float,
        forget_after_s: float,
        remember_s: float,
    ) -> None:
        """Add an accepted event (`fields`: its data's) to its project (`name`: the event's,
        or `other`) and to the calendar month it lies in (a review: to its run's month)."""
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
        limit = self._limits[1] if kind is WINDOW else self._limits[0]
        label, folded = project.label_for(kind, fields, limit, profile.services or _NO_SERVICES)
        if folded is not None:
            self.ledger.of(partition).overflow[folded] += 1
        self._stale.add(name)
        if event.backfill:
            kinds.reopen(project, event, month, self._archive)
        if kind is WINDOW or kind is REVIEW or kind is STATEMENT:
            kinds.elsewhere(
                project, event, label, self.changes, self._archive, now_s=now_s,
                event_s=event_s, forget_after_s=forget_after_s, remember_s=remember_s,
            )  # fmt: skip
            return
        totals = project.month_totals(month, month_key)
        totals.note_applied(now_s)
        self.changes.months.add((name, month_key))
        if kind is RUN:  # most events: counted in one call
            run = run_fields(fields)
            day, manual_us = count_run(project.counters, totals, label, run, event_s)
            memo = _new(_RUN_MEMO, (month_key, day, run["outcome"], manual_us, remember_s))
            kinds.remember(project, event.id, memo, totals, self.changes)
            return
        if kind is OPENED or kind is RESOLVED:
            # the month it lands in is marked applied: a late one restates a closed period
            kinds.incident(project, data, label, self.changes, event_s)  # type: ignore[arg-type]
            return
        if kind is USAGE:
            self._usage(project, data, label, totals, event_s)  # type: ignore[arg-type]
            return
        micros = micros_of(data)
        project.counters.add(data, label, micros, event_s)
        totals.add(data, micros)

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
        priced = price_call(usage, event_s, self.policy.prices, self._catalogue())
        project.counters.add_usage(label, model, usage, priced, event_s)
        totals.add_usage(priced.cost)

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
        for name in adopt_projects(self._projects, state, self._clock().timestamp()):
            self.views.forget(name)
        self._legacy_seen_until_s = max(self._legacy_seen_until_s, state.legacy_seen_until_s)
        self.declarations.adopt(state.declared, state.revisions)
        for seen in state.seen:
            self._seen.setdefault(seen.partition, SeenIndex()).add(seen.digest, seen.forget_after_s)

    def revisions(self, project: str) -> list[RevisionRow]:
        """`project`'s declaration history known here, oldest first."""
        return self.declarations.history(project)

    def _revise(self, name: str, profile: ProjectProfile, now_s: float) -> RevisionRow | None:
        """The project's latest revision, appending one when its declaration changed."""
        latest, added = self.declarations.revise(name, profile.document, profile.digest, now_s)
        if added is not None:
            self.changes.revisions.append(added)
        return latest

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
            for pending in book.forget_before(now_s):
                self._unmatched.append((project.partition, pending))
            expired = expired or remembered != len(book.runs) + len(book.pending)
        forgotten = [seen.forget_before(now_s) for seen in self._seen.values()]
        if any(forgotten) or expired:
            return StateChanges(forget_seen_before_s=now_s)
        return StateChanges()

    def _keep_history(self, project: ProjectState, now: datetime) -> None:
        """Evaluate the project's closed periods while all their months are in memory."""
        name, policy = project.name, self.policy
        profile = policy.profile(name)
        since = self.declarations.since.get(name) if profile.declared else None
        self.views.history.of(project, profile, now, since, policy.version)

    def take_unmatched(self) -> list[tuple[int, KafkaRecord, str]]:
        """Reviews whose run never came (`forget_closed` found them), as (partition, the
        review as a structured CloudEvent record, why), counted as rejected `unmatched`;
        the caller dead-letters them before it commits."""
        taken, self._unmatched = self._unmatched, []
        letters = []
        for partition, pending in taken:
            self.reject(EventType.REVIEW_RECORDED.value, Reason.UNMATCHED, partition)
            letters.append((partition, *pending.dead_letter()))
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
        for name in declared - self.declarations.since.keys():
            self.declarations.since[name] = now.timestamp()
            self.changes.declared.append((name, now.timestamp()))
        names = sorted(set(self._projects) | declared)
        now_s = now.timestamp()
        projects = tuple(
            self.views.view(
                self._projects.get(name) or ProjectState(name, -1), policy, now, tick,
                self.declarations.since.get(name),
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
        since = self.declarations.since.get(name) if profile.declared else None
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
