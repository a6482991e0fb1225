"""How the kinds of event that are more than a sum change their project.

Each function takes the project the event counts in and the engine's change log; the
engine (collector.engine.engine) has checked the event's time, currency and
duplication first. Plain sums (runs, costs, savings) stay inline in `Engine.apply`:
they are the per-event hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

from collector.engine.aggregates import REVISIONS, PeriodTotals
from collector.engine.changes import ChangeLog
from collector.engine.fields import REVIEW, STATEMENT, WINDOW
from collector.engine.incidents import Incident
from collector.engine.periods import (
    Period,
    PeriodKind,
    parse_period_key,
    period_containing,
    quarter_of,
)
from collector.engine.project import ProjectState
from collector.engine.rates import SECONDS_PER_DAY
from collector.engine.reviews import PendingReview, RunMemo, apply_verdict
from collector.engine.statements import differences, kept_from
from collector.engine.units import to_micros
from collector.engine.windows import epoch_us, pieces
from collector.state.model import PeriodRow, WindowRow
from schemas.binding import to_structured_dict
from schemas.envelope import EventError, OutcomeEvent, Reason
from schemas.events import (
    AvailabilityObserved,
    CostStatement,
    IncidentOpened,
    IncidentResolved,
    ReviewRecorded,
)

Archive = Callable[[str, str], PeriodRow | None]
"""(project, month key) -> that month as stored, or None: months no longer held in memory."""


def check_pairing(projects: Mapping[str, ProjectState], event: OutcomeEvent) -> None:
    """Refuse `invalid`, before the event is marked seen, a resolution that ends before
    its open incident started and a review of another project's run."""
    data = event.data
    if isinstance(data, IncidentResolved):
        _check_resolution(projects, event, data)
    elif isinstance(data, ReviewRecorded):
        _check_review(projects, data)


def _check_resolution(
    projects: Mapping[str, ProjectState], event: OutcomeEvent, data: IncidentResolved
) -> None:
    project = projects.get(data.project)
    incident = None if project is None else project.incidents.get((data.service, data.incident))
    if incident is None:
        return
    started = None if data.started_at is None else epoch_us(data.started_at)
    problem = incident.resolution_conflict(epoch_us(event.time), started)
    if problem is not None:
        raise EventError(Reason.INVALID, f"incident {data.incident!r}: {problem}")


def _check_review(projects: Mapping[str, ProjectState], data: ReviewRecorded) -> None:
    """Known only when the run is held here (same instance)."""
    own = projects.get(data.project)
    subject = data.subject
    if own is not None and subject in own.review_book.runs:
        return
    for other in projects.values():
        if other.name != data.project and subject in other.review_book.runs:
            raise EventError(
                Reason.INVALID,
                f"run {subject!r} is a run of project {other.name!r}, not {data.project!r}",
            )


def elsewhere(
    project: ProjectState,
    event: OutcomeEvent,
    label: str,
    changes: ChangeLog,
    archive: Archive,
    *,
    now_s: float,
    event_s: float,
    forget_after_s: float,
    remember_s: float,
) -> None:
    """The events whose numbers do not lie in the event's own month: availability (its
    window), a review (its run's month), a statement (each line's day)."""
    data = event.data
    # by identity: `isinstance` asks pydantic's metaclass (the models have no subclasses)
    if type(data) is WINDOW:
        observe(
            project,
            data,
            label,
            changes,
            now_s=now_s,
            event_s=event_s,
            forget_after_s=forget_after_s,
        )
    elif type(data) is REVIEW:
        review(project, event, label, changes, now_s=now_s, remember_s=remember_s)
    elif type(data) is STATEMENT:
        statement(project, data, changes, archive, now_s=now_s, event_s=event_s)


def remember(
    project: ProjectState, run_id: str, memo: RunMemo, totals: PeriodTotals, changes: ChangeLog
) -> None:
    """Remember a run for its review; apply the review that waited for it."""
    book = project.review_book
    remembered, waiting = book.remember(run_id, memo)
    if not remembered:
        return
    month, day, outcome, manual_us, forget_after_s = memo
    changes.note_run(
        project.partition, forget_after_s, (project.name, run_id, month, day, outcome, manual_us)
    )
    if waiting is not None:
        apply_verdict(book, run_id, waiting, totals, project.counters)
        changes.reviews.add((project.name, run_id))


def review(
    project: ProjectState,
    event: OutcomeEvent,
    label: str,
    changes: ChangeLog,
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
    pending = PendingReview(data.verdict, effort_us, event_s, remember_s, to_structured_dict(event))
    book = project.review_book
    memo = book.runs.get(data.subject)
    changes.reviews.add((project.name, data.subject))
    if memo is None:
        book.wait(data.subject, pending)
        return
    month = parse_period_key(memo.month)
    totals = project.month_totals(month)
    if apply_verdict(book, data.subject, pending, totals, counters):
        totals.note_applied(now_s)
        changes.months.add((project.name, memo.month))


def statement(
    project: ProjectState,
    data: CostStatement,
    changes: ChangeLog,
    archive: Archive,
    *,
    now_s: float,
    event_s: float,
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
    bring_back(project, set(months.values()), archive)
    for day, category, delta in changed:
        month = months[day]
        totals = project.month_totals(month)
        totals.cost_n[category] += delta
        totals.note_applied(now_s)
        changes.months.add((project.name, month.key))
        if delta > 0:
            counters.cost_n[category] += delta
        else:
            counters.credit_n[category] -= delta
    counters.note_time(event_s)
    project.statements[data.statement] = new
    changes.statements.add((project.name, data.statement))


def incident(
    project: ProjectState,
    data: IncidentOpened | IncidentResolved,
    label: str,
    changes: ChangeLog,
    event_s: float,
) -> None:
    """Pair an incident's events (docs/REFERENCE.md#formulas, incidents basis)."""
    key = (data.service, data.incident)
    kept = project.incidents.get(key)
    if kept is None:
        kept = Incident(label)
        project.restore_incident(key, kept)
    moment_us = round(event_s * 1e6)
    if isinstance(data, IncidentOpened):
        kept.open_at(moment_us)
    else:
        started = None if data.started_at is None else epoch_us(data.started_at)
        kept.resolve_at(moment_us, started)
        kept.resolved_by = data.resolved_by or kept.resolved_by
    kept.title = data.title or kept.title
    kept.severity = data.severity or kept.severity
    project.counters.note_time(event_s)
    project.incidents_revision = next(REVISIONS)
    changes.incidents.add((project.name, *key))


def observe(
    project: ProjectState,
    data: AvailabilityObserved,
    label: str,
    changes: ChangeLog,
    *,
    now_s: float,
    event_s: float,
    forget_after_s: float,
) -> None:
    """A window counts in its service's union per month (docs/REFERENCE.md#formulas)."""
    key = (data.service, epoch_us(data.window_start), epoch_us(data.window_end))
    downtime_us = to_micros(data.downtime_s)
    months, observed, downtime = project.observe_window(key, label, downtime_us, now_s)
    project.counters.add_window(label, observed, downtime, event_s)
    changes.months.update((project.name, month) for month in months)
    changes.windows.append(WindowRow(project.name, label, *key, downtime_us, forget_after_s))


def reopen(project: ProjectState, event: OutcomeEvent, month: Period, archive: Archive) -> None:
    """Before history is applied: bring back from the archive each month it lands in
    that is no longer in memory (else its stored totals would be overwritten), and mark
    them backfilled."""
    data = event.data
    if isinstance(data, AvailabilityObserved):
        start_us, end_us = epoch_us(data.window_start), epoch_us(data.window_end)
        months = [m for m, *_ in pieces(start_us, end_us, 0)]
    else:
        months = [month]
    bring_back(project, months, archive)
    for touched in months:
        project.month_totals(touched).backfilled += 1


def bring_back(project: ProjectState, months: Iterable[Period], archive: Archive) -> None:
    """Restore from the archive each of `months` that is no longer in memory (else its
    stored totals would be overwritten) and the other months of its quarter that left
    memory, so that the quarter's figures can be restated whole
    (collector.engine.history)."""
    months = list(months)
    quarters = {quarter_of(touched) for touched in months}
    siblings = [m for m in project.dropped if quarter_of(m) in quarters]
    for touched in [*months, *siblings]:
        if touched.key not in project.months:
            stored = archive(project.name, touched.key)
            if stored is not None:
                project.restore_month(stored, touched)
