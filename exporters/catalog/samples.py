"""Snapshot -> samples, once for every exporter, in the order of the families
(exporters.catalog.families). Pure. An undefined value (None in the snapshot) produces
no sample at all, never 0 or NaN."""

from __future__ import annotations

from collections.abc import Iterator

from exporters.catalog.families import (
    BUILD,
    CONSUMER_LAG,
    DECLARATION_RELOADS,
    DECLARATION_VALID,
    DELAY,
    ENGINE,
    EVENTS,
    LABEL_OVERFLOW,
    MEETING_OBJECTIVES,
    OTLP_EXPORTS,
    PARTITIONS_HELD,
    PORTFOLIO_PROJECTS,
    PORTFOLIO_READY,
    PROJECT_FAMILIES,
    READY,
    REJECTED,
    UNHELD,
    Family,
)
from schemas.snapshot import (
    PROJECT_STATUSES,
    TARGET_STATUSES,
    ProjectSnapshot,
    Readiness,
    Snapshot,
)

Sample = tuple[tuple[str, ...], float]
"""Label values (in the family's label order) and the value."""


def project_samples(project: ProjectSnapshot, currency: str) -> tuple[list[Sample], ...]:
    """The project's samples, one list per entry of `PROJECT_FAMILIES`."""
    name, counters, period, info = project.name, project.counters, project.period, project.info
    p, pc = (name,), (name, currency)
    targets = project.targets
    reviewed = bool(counters.reviews)
    return (
        [((name, automation, outcome), count) for automation, outcome, count in counters.runs],
        [(p, counters.manual_time_avoided_s)],
        [(p, counters.human_effort_s)],
        [((name, category, currency), amount) for category, amount in counters.cost],
        [((name, category, currency), amount) for category, amount in counters.credits],
        [((name, category, currency), amount) for category, amount in counters.savings],
        [((name, service), seconds) for service, seconds in counters.downtime_s],
        [((name, service), seconds) for service, seconds in counters.observed_s],
        [(p, period.start_s)],
        [(p, period.end_s)],
        [(p, period.time_saved_s)],
        [(pc, period.cost)],
        [(pc, period.savings)],
        [(pc, period.value)],
        [
            ((name, currency, "measured"), period.measured_value),
            ((name, currency, "estimated"), period.estimated_value),
        ],
        [(pc, period.net_value)],
        _defined(p, period.roi),
        _defined(p, period.uptime),
        [((name, service), seen) for service, seen, _ in period.services],
        [((name, service), down) for service, _, down in period.services],
        _defined(p, period.success_ratio),
        _defined(p, period.intervention_ratio),
        [((name, outcome), count) for outcome, count in period.runs],
        [((name, t.target), t.objective) for t in targets],
        [((name, t.target), t.projected) for t in targets if t.projected is not None],
        [((name, t.target), t.attainment) for t in targets if t.attainment is not None],
        [
            ((name, t.target, state), float(state == t.status))
            for t in targets
            for state in TARGET_STATUSES
        ],
        [((name, info.team, info.owner, info.sponsor, info.stage), 1.0)],
        [((name, state), float(state == project.status)) for state in PROJECT_STATUSES],
        _defined(p, project.last_event_time_s),
        _defined(p, info.stage_since_s),
        _defined(p, project.declared_since_s),
        [(pc, project.lifetime_value)],
        [(pc, project.lifetime_cost)],
        _defined(pc, info.budget),
        [((name, service), opened) for service, opened, _, _ in project.incidents],
        [((name, service), resolved) for service, _, resolved, _ in project.incidents],
        [((name, service), pending) for service, _, _, pending in project.incidents],
        [((name, service), since) for service, since in project.incidents_open_since],
        _defined(pc, info.hourly_rate),
        _defined(p, project.last_received_s),
        _defined(pc, period.cost_per_success),
        [
            ((name, a, prov, model, kind), float(n))
            for a, prov, model, kind, n in counters.ai_tokens
        ],
        [((name, provider, model), float(n)) for provider, model, n in counters.ai_calls],
        [
            ((name, provider, model, currency, source), cost)
            for provider, model, source, cost in counters.ai_cost
        ],
        [((name, provider, model), float(n)) for provider, model, n in counters.ai_unpriced],
        [(pc, period.ai_cost)] if counters.ai_calls else [],
        [((name, a, verdict), float(n)) for a, verdict, n in counters.reviews],
        [(p, float(project.reviews_pending))] if reviewed else [],
        [((name, verdict), float(n)) for verdict, n in period.reviews] if reviewed else [],
        _defined(p, period.acceptance_ratio),
        _defined(p, period.review_coverage) if reviewed else [],
        [(p, period.forfeited_s)] if reviewed else [],
        *_closed_samples(project, currency),
        [((name, s.statement, s.version), s.issued_s) for s in project.statements],
        [((name, s.statement, currency), s.cost) for s in project.statements],
        _decision(project),
        _defined(p, info.review_due_s),
        [((name, check), float(passed)) for check, passed, _ in project.readiness],
        [(p, float(project.ready))] if project.readiness else [],
        _defined(p, None if project.revision is None else float(project.revision)),
        _defined(p, project.revised_s),
        [((name, a), manual_s / runs) for a, runs, manual_s in period.baselines],
    )


def _decision(project: ProjectSnapshot) -> list[Sample]:
    info = project.info
    if info.decision is None:
        return []
    return [((project.name, info.decision, info.decision_owner or "unknown"), 1.0)]


def _closed_samples(project: ProjectSnapshot, currency: str) -> tuple[list[Sample], ...]:
    name, history = project.name, project.history
    return (
        [((name, c.key, c.kind, currency), c.value) for c in history],
        [((name, c.key, c.kind, currency), c.cost) for c in history],
        [((name, c.key, c.kind), c.time_saved_s) for c in history],
        [((name, c.key, c.kind), c.uptime) for c in history if c.uptime is not None],
        [((name, c.key, c.kind, c.status), 1.0) for c in history if c.status is not None],
    )


def _defined(labels: tuple[str, ...], value: float | None) -> list[Sample]:
    return [] if value is None else [(labels, value)]


def global_samples(snapshot: Snapshot) -> list[tuple[Family, list[Sample]]]:
    """Portfolio and collector-health families, in exposition order; `DELAY` has no
    samples here (see `delay_buckets`), OTLP pushes only when that exporter runs."""
    portfolio, health = snapshot.portfolio, snapshot.health
    result: list[tuple[Family, list[Sample]]] = [
        (PORTFOLIO_PROJECTS, [((state,), float(n)) for state, n in portfolio.projects]),
        (MEETING_OBJECTIVES, _defined((), portfolio.meeting_objectives_ratio)),
        (PORTFOLIO_READY, _defined((), portfolio.ready_ratio)),
        (EVENTS, [((kind, result), float(n)) for kind, result, n in health.events]),
        (REJECTED, [((reason,), float(n)) for reason, n in health.rejected]),
        (
            CONSUMER_LAG,
            [((topic, str(part)), float(behind)) for topic, part, behind in health.consumer_lag],
        ),
        *_readiness_samples(health.readiness),
        (LABEL_OVERFLOW, [((label,), float(n)) for label, n in health.label_overflow]),
        (DELAY, []),
        (DECLARATION_VALID, [((file,), float(ok)) for file, ok in health.declaration_files]),
        (DECLARATION_RELOADS, [((result,), float(n)) for result, n in health.declaration_reloads]),
    ]
    if health.otlp_exports:
        result.append((OTLP_EXPORTS, [((o,), float(n)) for o, n in health.otlp_exports]))
    result.append((BUILD, [((health.version,), 1.0)]))
    if health.engine:  # a serving collector (stored state does not say)
        result.append((ENGINE, [((health.engine,), 1.0)]))
    return result


def _readiness_samples(readiness: Readiness | None) -> list[tuple[Family, list[Sample]]]:
    if readiness is None:  # stored state (a report), not a serving collector
        return []
    return [
        (READY, [((), 1.0 if readiness.ready else 0.0)]),
        (PARTITIONS_HELD, [((), float(readiness.partitions_held))]),
        (UNHELD, [((), readiness.unheld_s)]),
    ]


def delay_buckets(snapshot: Snapshot) -> tuple[list[tuple[str, float]], float]:
    """The delay histogram's (le, cumulative count) buckets, `+Inf` last, and its sum."""
    delay = snapshot.health.event_delay
    buckets = [
        (repr(bound), float(count))
        for bound, count in zip(delay.bounds, delay.cumulative, strict=True)
    ]
    buckets.append(("+Inf", float(delay.count)))
    return buckets, delay.total


def samples(snapshot: Snapshot) -> Iterator[tuple[Family, list[Sample]]]:
    """Every family with its samples, in exposition order: the project families (each
    project's samples in snapshot order), then the global ones. `DELAY` comes with no
    samples: an exporter reads its buckets from `delay_buckets`."""
    per_project = [project_samples(p, snapshot.currency) for p in snapshot.projects]
    for index, family in enumerate(PROJECT_FAMILIES):
        yield family, [sample for samples in per_project for sample in samples[index]]
    yield from global_samples(snapshot)
