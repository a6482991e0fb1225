"""One project's state + profile + clock -> its immutable `ProjectSnapshot`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from collector.engine.attainment import evaluate, meeting_ratio, project_status
from collector.engine.formulas import (
    Availability,
    figures,
    lifetime_cost,
    lifetime_value,
    period_result,
    realized,
)
from collector.engine.periods import Period, period_containing
from collector.engine.policy import ProjectProfile
from collector.engine.project import ProjectState
from collector.engine.rates import epoch_day
from collector.engine.readiness import readiness
from collector.engine.snapshots import counters_snapshot
from collector.engine.statements import statement_snapshots
from schemas.snapshot import (
    PROJECT_STATUSES,
    ClosedPeriod,
    PeriodResult,
    Portfolio,
    ProjectInfo,
    ProjectSnapshot,
    TargetResult,
)


def current_period(profile: ProjectProfile, now: datetime) -> Period:
    return period_containing(now, profile.period_kind)


def project_snapshot(
    project: ProjectState,
    profile: ProjectProfile,
    period: Period,
    now: datetime,
    declared_since_s: float | None = None,
    *,
    history: tuple[ClosedPeriod, ...] = (),
) -> ProjectSnapshot:
    """Realized values, targets and status of `project` over `period` at `now`;
    `history`: its last closed periods."""
    result, targets = _judged(project, profile, period, now, declared_since_s)
    return ProjectSnapshot(
        name=project.name,
        counters=counters_snapshot(project.counters),
        period=result,
        last_event_time_s=project.counters.last_event_s,
        last_received_s=project.counters.last_received_s,
        reviews_pending=len(project.review_book.pending),
        info=project_info(profile, now),
        targets=targets,
        status=project_status(profile.objectives, targets),
        lifetime_value=float(lifetime_value(project.counters, profile.hourly_rates)),
        lifetime_cost=float(lifetime_cost(project.counters)),
        incidents=project.incident_counts(),
        incidents_open_since=project.oldest_open(),
        declared_since_s=declared_since_s,
        history=history,
        statements=statement_snapshots(project.statements),
        readiness=tuple(
            (check.name, check.passed, check.reason)
            for check in readiness(profile, project.counters, now.timestamp())
        ),
    )


def closed_period(
    project: ProjectState,
    profile: ProjectProfile,
    period: Period,
    now: datetime,
    declared_since_s: float | None,
    *,
    with_status: bool,
) -> ClosedPeriod:
    """A closed period's figures as the report shows them; its status when `with_status`
    (the project's own period kind)."""
    result, targets = _judged(project, profile, period, now, declared_since_s)
    return ClosedPeriod(
        key=period.key,
        kind=period.kind.value,
        value=result.value,
        cost=result.cost,
        time_saved_s=result.time_saved_s,
        roi=result.roi,
        uptime=result.uptime,
        status=project_status(profile.objectives, targets) if with_status else None,
    )


def _judged(
    project: ProjectState,
    profile: ProjectProfile,
    period: Period,
    now: datetime,
    declared_since_s: float | None,
) -> tuple[PeriodResult, tuple[TargetResult, ...]]:
    totals = project.totals_over(period)
    services = profile.services
    availability = (
        incidents_uptime(
            project, profile, period, now, known_since(project, profile, declared_since_s)
        )
        if profile.uptime_from == "incidents"
        else None
    )
    rates = profile.hourly_rates
    computed = figures(totals, rates, services, availability)
    result = period_result(period, totals, rates, services, computed=computed)
    facts = realized(period, totals, rates, services, now, computed=computed)
    return result, evaluate(profile.objectives, profile.guards, facts)


def known_since(
    project: ProjectState, profile: ProjectProfile, declared_since_s: float | None
) -> float | None:
    """When the collector came to know the project: the earliest of its first event
    (history included), its declaration taking effect and its declared stageSince."""
    known = (project.counters.first_event_s, declared_since_s, profile.stage_since_s)
    return min((moment for moment in known if moment is not None), default=None)


def incidents_uptime(
    project: ProjectState,
    profile: ProjectProfile,
    period: Period,
    now: datetime,
    known_since_s: float | None = None,
) -> Availability:
    """Incidents basis (docs/REFERENCE.md#formulas): per declared service, observed =
    now − max(period start, observedSince, or else when the project became known: a
    project is never observed before it existed); downtime = the union of its incidents
    within that span, an open one running up to now. (Up to the period's end for a closed
    period.)"""
    since = profile.observed_since_s if profile.observed_since_s is not None else known_since_s
    low_s = max(period.start_s, since if since is not None else period.start_s)
    low_us, high_us = round(low_s * 1e6), round(min(now.timestamp(), period.end_s) * 1e6)
    observed_us = max(high_us - low_us, 0)
    return tuple(
        (
            service,
            observed_us,
            project.incident_downtime_us(service, low_us, high_us) if observed_us else 0,
        )
        for service in sorted(profile.services or ())
    )


def project_info(profile: ProjectProfile, now: datetime) -> ProjectInfo:
    return ProjectInfo(
        declared=profile.declared,
        team=profile.team,
        owner=profile.owner,
        sponsor=profile.sponsor,
        stage=profile.stage,
        stage_since_s=profile.stage_since_s,
        budget=None if profile.budget is None else float(profile.budget),
        hourly_rate=float(profile.hourly_rates.rate_on(epoch_day(now.timestamp()))),
        decision=profile.decision,
        decision_owner=profile.decision_owner,
        review_due_s=profile.review_due_s,
    )


def portfolio(projects: Iterable[ProjectSnapshot]) -> Portfolio:
    listed = tuple(projects)
    counts = Counter(project.status for project in listed)
    ready = sum(1 for project in listed if project.ready)
    return Portfolio(
        projects=tuple((status, counts.get(status, 0)) for status in PROJECT_STATUSES),
        meeting_objectives_ratio=meeting_ratio(counts),
        ready_ratio=ready / len(listed) if listed else None,
    )
