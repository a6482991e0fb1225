"""Every metric family, described once: exposed name, type, help and label names (the
documented, stable names of docs/REFERENCE.md). Counter names are written as exposed
(`…_total`); prometheus_client keeps the family name without the suffix and adds it
back to the samples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    """As exposed in the text format: counters end in `_total`."""
    kind: Literal["counter", "gauge", "histogram"]
    help: str
    labels: tuple[str, ...]


def _counter(name: str, help_text: str, *labels: str) -> Family:
    return Family(name, "counter", help_text, labels)


def _gauge(name: str, help_text: str, *labels: str) -> Family:
    return Family(name, "gauge", help_text, labels)


_P, _PC = ("project",), ("project", "currency")
_MONEY = ("project", "category", "currency")
_CLOSED = ("project", "period", "kind")

PROJECT_FAMILIES: Final = (
    _counter(
        "outcomes_runs_total", "Automation runs finished.", "project", "automation", "outcome"
    ),
    _counter(
        "outcomes_manual_time_avoided_seconds_total",
        "Manual (baseline) time of succeeded runs.",
        *_P,
    ),
    _counter("outcomes_human_effort_seconds_total", "Human time spent on runs.", *_P),
    _counter("outcomes_cost_total", "Money spent; run costs use category run.", *_MONEY),
    _counter(
        "outcomes_cost_credits_total",
        "Credits and corrections from bills (negative costs), as positive amounts: net cost ="
        " outcomes_cost_total - outcomes_cost_credits_total.",
        *_MONEY,
    ),
    _counter("outcomes_savings_total", "Money saved.", *_MONEY),
    _counter(
        "outcomes_downtime_seconds_total",
        "Observed downtime: overlapping windows count once; a re-sent window with less"
        " downtime lowers the period's uptime loss, never this counter.",
        "project",
        "service",
    ),
    _counter(
        "outcomes_observed_seconds_total",
        "Observed time: the union of the service's windows (re-sent or overlapping windows"
        " count once).",
        "project",
        "service",
    ),
    _gauge("outcomes_period_start_timestamp_seconds", "Current period start.", *_P),
    _gauge("outcomes_period_end_timestamp_seconds", "Current period end.", *_P),
    _gauge("outcomes_period_time_saved_seconds", "Time saved this period.", *_P),
    _gauge("outcomes_period_cost", "Cost this period.", *_PC),
    _gauge("outcomes_period_savings", "Savings this period.", *_PC),
    _gauge("outcomes_period_value", "Value this period.", *_PC),
    _gauge(
        "outcomes_period_value_by_evidence",
        "Value this period by what it rests on: measured (savings read off bills, invoices,"
        " meters) and estimated (other savings, time saved at the hourly rates in force);"
        " the two add up to outcomes_period_value.",
        "project",
        "currency",
        "evidence",
    ),
    _gauge("outcomes_period_net_value", "Value minus cost this period.", *_PC),
    _gauge("outcomes_period_roi_ratio", "Net value / cost this period.", *_P),
    _gauge("outcomes_period_uptime_ratio", "Uptime this period.", *_P),
    _gauge(
        "outcomes_period_observed_seconds",
        "Observed time this period of each service counted for uptime (windows: their union;"
        " incidents basis: since the period start or observedSince).",
        "project",
        "service",
    ),
    _gauge(
        "outcomes_period_downtime_seconds",
        "Downtime this period of each service counted for uptime (incidents basis: the union"
        " of its incidents, an open one up to now).",
        "project",
        "service",
    ),
    _gauge("outcomes_period_success_ratio", "Succeeded / (succeeded + failed).", *_P),
    _gauge("outcomes_period_intervention_ratio", "Runs with human effort / all runs.", *_P),
    _gauge("outcomes_period_runs", "Runs this period by outcome.", "project", "outcome"),
    _gauge(
        "outcomes_target_objective",
        "Declared objective per period (ratio, currency or seconds).",
        "project",
        "target",
    ),
    _gauge(
        "outcomes_target_projected",
        "Value projected to the end of the period.",
        "project",
        "target",
    ),
    _gauge(
        "outcomes_target_attainment_ratio",
        "How the projection compares with the objective: projected / objective for savings,"
        " time saved and roi; for uptime and success rate the error budget (1 - objective) /"
        " (1 - realized), at most 10. Absent while the target has insufficient data.",
        "project",
        "target",
    ),
    _gauge(
        "outcomes_target_status",
        "1 for the target's current status.",
        "project",
        "target",
        "status",
    ),
    _gauge(
        "outcomes_project_info",
        "Project labels from its declaration.",
        "project",
        "team",
        "owner",
        "sponsor",
        "stage",
    ),
    _gauge("outcomes_project_status", "1 for the project's current status.", "project", "status"),
    _gauge(
        "outcomes_project_last_event_timestamp_seconds",
        "Event time of the project's newest accepted event.",
        *_P,
    ),
    _gauge(
        "outcomes_project_stage_since_timestamp_seconds",
        "When the project's current stage began.",
        *_P,
    ),
    _gauge(
        "outcomes_project_declared_timestamp_seconds",
        "When the project's declaration first took effect (a declared project that never"
        " reported is stalled from then on).",
        *_P,
    ),
    _gauge("outcomes_project_lifetime_value", "Value since the first event.", *_PC),
    _gauge("outcomes_project_lifetime_cost", "Cost since the first event.", *_PC),
    _gauge("outcomes_project_budget", "Declared total investment.", *_PC),
    _gauge(
        "outcomes_incidents_open",
        "Incidents open now (downtime of the incidents basis until resolved).",
        "project",
        "service",
    ),
    _counter(
        "outcomes_incidents_total",
        "Incidents resolved (start and end known).",
        "project",
        "service",
    ),
    _gauge(
        "outcomes_incidents_pending",
        "Resolved incidents whose start is not known yet: kept until their opened event"
        " arrives, never guessed.",
        "project",
        "service",
    ),
    _gauge(
        "outcomes_incidents_open_since_timestamp_seconds",
        "Start of the service's longest-open incident (absent when none is open).",
        "project",
        "service",
    ),
    _gauge(
        "outcomes_project_hourly_rate",
        "Hourly rate in force now, valuing time saved (currency per hour; a dated list in the"
        " declaration changes it without revaluing past runs).",
        *_PC,
    ),
    _gauge(
        "outcomes_project_last_received_timestamp_seconds",
        "When the collector last received an event of the project (wall clock, history"
        " imports included): ProjectStalled and 'since last event' use it, so a backfill does"
        " not look stalled.",
        *_P,
    ),
    _gauge(
        "outcomes_period_cost_per_success",
        "Cost this period / succeeded runs this period (absent without a succeeded run).",
        *_PC,
    ),
    _counter(
        "outcomes_ai_tokens_total",
        "Tokens of model calls (input includes cached, output includes reasoning).",
        "project",
        "automation",
        "provider",
        "model",
        "type",
    ),
    _counter("outcomes_ai_calls_total", "Model calls.", "project", "provider", "model"),
    _counter(
        "outcomes_ai_cost_total",
        'Cost of priced model calls (part of outcomes_cost_total{category="ai"}), by where'
        " the price came from: provider (reported with the call), price_book, catalogue.",
        "project",
        "provider",
        "model",
        "currency",
        "source",
    ),
    _counter(
        "outcomes_ai_unpriced_calls_total",
        "Model calls no price was found for: their tokens count, their cost is absent.",
        "project",
        "provider",
        "model",
    ),
    _gauge(
        "outcomes_period_ai_cost",
        "Cost of model calls this period (part of outcomes_period_cost); present once the"
        " project has made a model call.",
        *_PC,
    ),
    _counter(
        "outcomes_reviews_total",
        "Reviews recorded: a person's verdict on a run (a replaced verdict stays counted).",
        "project",
        "automation",
        "verdict",
    ),
    _gauge("outcomes_reviews_pending", "Reviews whose run has not arrived yet.", *_P),
    _gauge(
        "outcomes_period_reviews",
        "Runs of this period by their (latest) verdict; present once the project has a review.",
        "project",
        "verdict",
    ),
    _gauge(
        "outcomes_period_acceptance_ratio",
        "(accepted + edited) / reviewed runs this period (absent without a reviewed run).",
        *_P,
    ),
    _gauge(
        "outcomes_period_review_coverage_ratio",
        "Reviewed runs / runs this period; present once the project has a review.",
        *_P,
    ),
    _gauge(
        "outcomes_period_time_forfeited_seconds",
        "Manual time of this period's succeeded runs that a reviewer rejected or escalated:"
        " a person did the work, so it is not time saved.",
        *_P,
    ),
    _gauge(
        "outcomes_closed_period_value",
        "Value of each of the last closed periods (12 months; 4 quarters too for a quarterly"
        " project), restated by late events and history imports; none before the project"
        " was known.",
        *_CLOSED,
        "currency",
    ),
    _gauge(
        "outcomes_closed_period_cost",
        "Cost of each of the last closed periods.",
        *_CLOSED,
        "currency",
    ),
    _gauge(
        "outcomes_closed_period_time_saved_seconds",
        "Time saved in each of the last closed periods.",
        *_CLOSED,
    ),
    _gauge(
        "outcomes_closed_period_uptime_ratio",
        "Uptime of each of the last closed periods (absent where undefined).",
        *_CLOSED,
    ),
    _gauge(
        "outcomes_closed_period_status",
        "1 for the status each closed period of the project's own kind ended with.",
        *_CLOSED,
        "status",
    ),
    _gauge(
        "outcomes_cost_statement_issued_timestamp_seconds",
        "When the version of each cloud bill statement the project's cost rests on was"
        " imported (version: the digest of its content).",
        "project",
        "statement",
        "version",
    ),
    _gauge(
        "outcomes_cost_statement_cost",
        "The project's cost in the latest version of each cloud bill statement.",
        "project",
        "statement",
        "currency",
    ),
    _gauge(
        "outcomes_project_decision_info",
        "1 for the decision in force on the project (kind: Decision, the latest by date):"
        " scale, continue, pause, stop or extend, and who owns it.",
        "project",
        "decision",
        "owner",
    ),
    _gauge(
        "outcomes_project_review_due_timestamp_seconds",
        "When the decision in force is to be reviewed by: the end of its reviewBy day (UTC)."
        " Past it with no later decision, the review is overdue.",
        *_P,
    ),
    _gauge(
        "outcomes_project_readiness",
        "1 when the readiness check passes, else 0: owner, sponsor, objectives (one"
        " measurable), baseline (a declared hourly rate; manual times on runs when time saved"
        " is an objective), data (each objective's inputs reported within 7 days), scope (a"
        " pilot has stageSince and a decision with reviewBy).",
        "project",
        "check",
    ),
    _gauge(
        "outcomes_project_ready",
        "1 when every readiness check passes: the project's ROI can be judged.",
        *_P,
    ),
    _gauge(
        "outcomes_project_declaration_revision",
        "The revision of the project's declaration in force: 1 for the first version the"
        " state store saw, one more for each distinct version since (outcomes targets"
        " history PROJECT lists them).",
        *_P,
    ),
    _gauge(
        "outcomes_project_declaration_changed_timestamp_seconds",
        "When the declaration's revision in force took effect.",
        *_P,
    ),
    _gauge(
        "outcomes_period_baseline_seconds",
        "Manual time per succeeded run this period, by automation: the baseline the estimated"
        " time saved rests on (present for automations whose succeeded runs reported one).",
        "project",
        "automation",
    ),
)
"""Families with one or more series per project, in exposition order."""


DELAY: Final = Family(
    "outcomes_collector_event_delay_seconds",
    "histogram",
    "Delay from event time to the event being applied.",
    (),
)
OTLP_EXPORTS: Final = _counter(
    "outcomes_collector_otlp_exports_total", "OTLP metric pushes by result.", "result"
)
(
    PORTFOLIO_PROJECTS,
    MEETING_OBJECTIVES,
    PORTFOLIO_READY,
    EVENTS,
    REJECTED,
    CONSUMER_LAG,
    READY,
    PARTITIONS_HELD,
    UNHELD,
    LABEL_OVERFLOW,
    DECLARATION_VALID,
    DECLARATION_RELOADS,
    BUILD,
    ENGINE,
) = GLOBAL_FAMILIES = (
    _gauge("outcomes_portfolio_projects", "Projects by status.", "status"),
    _gauge("outcomes_portfolio_meeting_objectives_ratio", "met / (met + at_risk + off_target)."),
    _gauge(
        "outcomes_portfolio_ready_ratio",
        "Projects whose every readiness check passes / projects (this collector's).",
    ),
    _counter(
        "outcomes_collector_events_total",
        "Events consumed, by type and result (accepted, duplicate, rejected).",
        "type",
        "result",
    ),
    _counter("outcomes_collector_rejected_total", "Events dead-lettered, by reason.", "reason"),
    _gauge(
        "outcomes_collector_consumer_lag",
        "Records behind the end of each assigned partition.",
        "topic",
        "partition",
    ),
    _gauge(
        "outcomes_collector_ready",
        "1 when /readyz answers 200 (this collector counts events), else 0.",
    ),
    _gauge(
        "outcomes_collector_partitions_held",
        "Partitions of the events topic this collector's consumers hold.",
    ),
    _gauge(
        "outcomes_collector_partitions_unheld_seconds",
        "Seconds since this collector last held a partition (0 while it holds some);"
        " past 3 session timeouts /readyz answers 503: the group is not settling.",
    ),
    _counter(
        "outcomes_collector_label_overflow_total",
        "Label values folded into 'other' by the cardinality limit.",
        "label",
    ),
    _gauge(
        "outcomes_collector_declaration_file_valid",
        "1 if the declaration file is valid; 0 means its last good version is in force.",
        "file",
    ),
    _counter(
        "outcomes_collector_declaration_reloads_total",
        "Declaration file loads by result.",
        "result",
    ),
    _gauge("outcomes_collector_build_info", "Collector build.", "version"),
    _gauge(
        "outcomes_collector_engine_info",
        "How the collector runs its per-event modules: compiled (the mypyc build make makes)"
        " or pure (the Python source, about 1.3x the CPU per event).",
        "engine",
    ),
)
"""Portfolio and collector-health families (with `DELAY` and `OTLP_EXPORTS`)."""
