"""Snapshot -> Prometheus metric families (DESIGN §6, binding names). Pure functions.

Counter names are written as exposed (`…_total`); prometheus_client keeps the family
name without the suffix and adds it back to the samples.

An undefined value (None in the snapshot) produces no sample at all, never 0 or NaN.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from schemas.snapshot import PROJECT_STATUSES, TARGET_STATUSES, HealthSnapshot, Snapshot


def families(snapshot: Snapshot) -> Iterator[Metric]:
    """Every family of the snapshot, in a stable order."""
    yield from counter_families(snapshot)
    yield from period_families(snapshot)
    yield from target_families(snapshot)
    yield from project_families(snapshot)
    yield from portfolio_families(snapshot)
    yield from health_families(snapshot.health)


def counter_families(snapshot: Snapshot) -> Iterator[Metric]:
    currency = snapshot.currency
    runs = CounterMetricFamily(
        "outcomes_runs_total",
        "Automation runs finished.",
        labels=["project", "automation", "outcome"],
    )
    manual = CounterMetricFamily(
        "outcomes_manual_time_avoided_seconds_total",
        "Manual (baseline) time of succeeded runs.",
        labels=["project"],
    )
    effort = CounterMetricFamily(
        "outcomes_human_effort_seconds_total", "Human time spent on runs.", labels=["project"]
    )
    cost = CounterMetricFamily(
        "outcomes_cost_total",
        "Money spent; run costs use category run.",
        labels=["project", "category", "currency"],
    )
    savings = CounterMetricFamily(
        "outcomes_savings_total", "Money saved.", labels=["project", "category", "currency"]
    )
    downtime = CounterMetricFamily(
        "outcomes_downtime_seconds_total", "Observed downtime.", labels=["project", "service"]
    )
    observed = CounterMetricFamily(
        "outcomes_observed_seconds_total",
        "Length of observed windows.",
        labels=["project", "service"],
    )
    for project in snapshot.projects:
        name, counters = project.name, project.counters
        for automation, outcome, count in counters.runs:
            runs.add_metric([name, automation, outcome], count)
        manual.add_metric([name], counters.manual_time_avoided_s)
        effort.add_metric([name], counters.human_effort_s)
        for category, amount in counters.cost:
            cost.add_metric([name, category, currency], amount)
        for category, amount in counters.savings:
            savings.add_metric([name, category, currency], amount)
        for service, seconds in counters.downtime_s:
            downtime.add_metric([name, service], seconds)
        for service, seconds in counters.observed_s:
            observed.add_metric([name, service], seconds)
    yield from (runs, manual, effort, cost, savings, downtime, observed)


def _gauge(name: str, help_text: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, labels=labels)


def period_families(snapshot: Snapshot) -> Iterator[Metric]:
    currency = snapshot.currency
    by_project = ["project"]
    with_currency = ["project", "currency"]
    start = _gauge("outcomes_period_start_timestamp_seconds", "Current period start.", by_project)
    end = _gauge("outcomes_period_end_timestamp_seconds", "Current period end.", by_project)
    saved = _gauge("outcomes_period_time_saved_seconds", "Time saved this period.", by_project)
    cost = _gauge("outcomes_period_cost", "Cost this period.", with_currency)
    savings = _gauge("outcomes_period_savings", "Savings this period.", with_currency)
    value = _gauge("outcomes_period_value", "Value this period.", with_currency)
    net = _gauge("outcomes_period_net_value", "Value minus cost this period.", with_currency)
    roi = _gauge("outcomes_period_roi_ratio", "Net value / cost this period.", by_project)
    uptime = _gauge("outcomes_period_uptime_ratio", "Uptime this period.", by_project)
    success = _gauge(
        "outcomes_period_success_ratio", "Succeeded / (succeeded + failed).", by_project
    )
    intervention = _gauge(
        "outcomes_period_intervention_ratio", "Runs with human effort / all runs.", by_project
    )
    runs = _gauge("outcomes_period_runs", "Runs this period by outcome.", ["project", "outcome"])
    for project in snapshot.projects:
        name, period = project.name, project.period
        start.add_metric([name], period.start_s)
        end.add_metric([name], period.end_s)
        saved.add_metric([name], period.time_saved_s)
        cost.add_metric([name, currency], period.cost)
        savings.add_metric([name, currency], period.savings)
        value.add_metric([name, currency], period.value)
        net.add_metric([name, currency], period.net_value)
        _add_defined(roi, [name], period.roi)
        _add_defined(uptime, [name], period.uptime)
        _add_defined(success, [name], period.success_ratio)
        _add_defined(intervention, [name], period.intervention_ratio)
        for outcome, count in period.runs:
            runs.add_metric([name, outcome], count)
    yield from (start, end, saved, cost, savings, value, net, roi, uptime, success, intervention)
    yield runs


def target_families(snapshot: Snapshot) -> Iterator[Metric]:
    labels = ["project", "target"]
    objective = _gauge(
        "outcomes_target_objective",
        "Declared objective per period (ratio, currency or seconds).",
        labels,
    )
    projected = _gauge(
        "outcomes_target_projected", "Value projected to the end of the period.", labels
    )
    attainment = _gauge(
        "outcomes_target_attainment_ratio", "Projected / objective (capped at 10).", labels
    )
    status = _gauge(
        "outcomes_target_status", "1 for the target's current status.", [*labels, "status"]
    )
    for project in snapshot.projects:
        for target in project.targets:
            names = [project.name, target.target]
            objective.add_metric(names, target.objective)
            _add_defined(projected, names, target.projected)
            _add_defined(attainment, names, target.attainment)
            for state in TARGET_STATUSES:
                status.add_metric([*names, state], float(state == target.status))
    yield from (objective, projected, attainment, status)


def project_families(snapshot: Snapshot) -> Iterator[Metric]:
    currency = snapshot.currency
    info = _gauge(
        "outcomes_project_info",
        "Project labels from its declaration.",
        ["project", "team", "owner", "sponsor", "stage"],
    )
    status = _gauge(
        "outcomes_project_status", "1 for the project's current status.", ["project", "status"]
    )
    last = _gauge(
        "outcomes_project_last_event_timestamp_seconds",
        "Event time of the project's newest accepted event.",
        ["project"],
    )
    since = _gauge(
        "outcomes_project_stage_since_timestamp_seconds",
        "When the project's current stage began.",
        ["project"],
    )
    value = _gauge(
        "outcomes_project_lifetime_value", "Value since the first event.", ["project", "currency"]
    )
    cost = _gauge(
        "outcomes_project_lifetime_cost", "Cost since the first event.", ["project", "currency"]
    )
    budget = _gauge(
        "outcomes_project_budget", "Declared total investment.", ["project", "currency"]
    )
    for project in snapshot.projects:
        name, i = project.name, project.info
        info.add_metric([name, i.team, i.owner, i.sponsor, i.stage], 1)
        for state in PROJECT_STATUSES:
            status.add_metric([name, state], float(state == project.status))
        _add_defined(last, [name], project.last_event_time_s)
        _add_defined(since, [name], i.stage_since_s)
        value.add_metric([name, currency], project.lifetime_value)
        cost.add_metric([name, currency], project.lifetime_cost)
        _add_defined(budget, [name, currency], i.budget)
    yield from (info, status, last, since, value, cost, budget)


def portfolio_families(snapshot: Snapshot) -> Iterator[Metric]:
    projects = _gauge("outcomes_portfolio_projects", "Projects by status.", ["status"])
    for state, count in snapshot.portfolio.projects:
        projects.add_metric([state], count)
    ratio = _gauge(
        "outcomes_portfolio_meeting_objectives_ratio",
        "met / (met + at_risk + off_target).",
        [],
    )
    _add_defined(ratio, [], snapshot.portfolio.meeting_objectives_ratio)
    yield from (projects, ratio)


def _add_defined(family: GaugeMetricFamily, labels: list[str], value: float | None) -> None:
    if value is not None:
        family.add_metric(labels, value)


def health_families(health: HealthSnapshot) -> Iterator[Metric]:
    events = CounterMetricFamily(
        "outcomes_collector_events_total",
        "Events consumed, by type and result (accepted, duplicate, rejected).",
        labels=["type", "result"],
    )
    for event_type, result, count in health.events:
        events.add_metric([event_type, result], count)
    rejected = CounterMetricFamily(
        "outcomes_collector_rejected_total", "Events dead-lettered, by reason.", labels=["reason"]
    )
    for reason, count in health.rejected:
        rejected.add_metric([reason], count)
    lag = _gauge(
        "outcomes_collector_consumer_lag",
        "Records behind the end of each assigned partition.",
        ["topic", "partition"],
    )
    for topic, partition, behind in health.consumer_lag:
        lag.add_metric([topic, str(partition)], behind)
    overflow = CounterMetricFamily(
        "outcomes_collector_label_overflow_total",
        "Label values folded into 'other' by the cardinality limit.",
        labels=["label"],
    )
    for label, count in health.label_overflow:
        overflow.add_metric([label], count)
    yield from (events, rejected, lag, overflow, _delay_family(health))
    yield from _declaration_families(health)
    build = _gauge("outcomes_collector_build_info", "Collector build.", ["version"])
    build.add_metric([health.version], 1)
    yield build


def _declaration_families(health: HealthSnapshot) -> Iterator[Metric]:
    valid = _gauge(
        "outcomes_collector_declaration_file_valid",
        "1 if the declaration file is valid; 0 means its last good version is in force.",
        ["file"],
    )
    for file, ok in health.declaration_files:
        valid.add_metric([file], float(ok))
    reloads = CounterMetricFamily(
        "outcomes_collector_declaration_reloads_total",
        "Declaration file loads by result.",
        labels=["result"],
    )
    for result, count in health.declaration_reloads:
        reloads.add_metric([result], count)
    yield from (valid, reloads)
    if health.otlp_exports:
        pushes = CounterMetricFamily(
            "outcomes_collector_otlp_exports_total",
            "OTLP metric pushes by result.",
            labels=["result"],
        )
        for result, count in health.otlp_exports:
            pushes.add_metric([result], count)
        yield pushes


def _delay_family(health: HealthSnapshot) -> HistogramMetricFamily:
    delay = health.event_delay
    buckets = [
        (_le(bound), count) for bound, count in zip(delay.bounds, delay.cumulative, strict=True)
    ]
    buckets.append(("+Inf", delay.count))
    return HistogramMetricFamily(
        "outcomes_collector_event_delay_seconds",
        "Delay from event time to the event being applied.",
        buckets=buckets,
        sum_value=delay.total,
    )


def _le(bound: float) -> str:
    return repr(bound)
