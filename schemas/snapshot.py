"""Immutable snapshot of the collector's results, handed from the engine to exporters.

This is the contract between the collector core and every exporter: plain frozen
dataclasses, floats in reporting units (seconds, currency, ratios), `None` where a
value is undefined (it must then be absent from every export, never 0 or NaN).
A snapshot is never mutated after it is published, so exporters may read it from
any thread without locks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

OUTCOMES: Final = ("succeeded", "failed", "cancelled")
TARGET_STATUSES: Final = ("met", "at_risk", "off_target", "insufficient_data")
PROJECT_STATUSES: Final = (*TARGET_STATUSES, "unscoped")


@dataclass(frozen=True, slots=True)
class ProjectCounters:
    """Lifetime counters of one project; they only ever grow (persisted across restarts)."""

    runs: tuple[tuple[str, str, int], ...] = ()
    """(automation, outcome, count)."""
    manual_time_avoided_s: float = 0.0
    human_effort_s: float = 0.0
    cost: tuple[tuple[str, float], ...] = ()
    """(category, amount); run costs use category `run`."""
    credits: tuple[tuple[str, float], ...] = ()
    """(category, amount) of credits and corrections (negative costs), as positive amounts."""
    savings: tuple[tuple[str, float], ...] = ()
    downtime_s: tuple[tuple[str, float], ...] = ()
    """(service, seconds)."""
    observed_s: tuple[tuple[str, float], ...] = ()
    since_s: float | None = None
    """Event time of the project's first event: when these cumulative counters started."""
    ai_tokens: tuple[tuple[str, str, str, str, int], ...] = ()
    """(automation, provider, model, token type, tokens) of model calls."""
    ai_calls: tuple[tuple[str, str, int], ...] = ()
    """(provider, model, calls)."""
    ai_cost: tuple[tuple[str, str, str, float], ...] = ()
    """(provider, model, price source, cost); source in provider, price_book, catalogue."""
    ai_unpriced: tuple[tuple[str, str, int], ...] = ()
    """(provider, model, calls without a price): their cost is absent, never guessed."""
    reviews: tuple[tuple[str, str, int], ...] = ()
    """(automation, verdict, reviews recorded); a replaced review stays counted."""


@dataclass(frozen=True, slots=True)
class PeriodResult:
    """Realized values of one project over one period [start, end) (docs/REFERENCE.md#formulas)."""

    key: str
    """`2026-11` for a month, `2026-Q4` for a quarter."""
    start_s: float
    end_s: float
    time_saved_s: float
    cost: float
    savings: float
    value: float
    net_value: float
    roi: float | None
    uptime: float | None
    success_ratio: float | None
    intervention_ratio: float | None
    runs: tuple[tuple[str, int], ...]
    """(outcome, count) for every outcome, zeros included."""
    observed_s: float
    services: tuple[tuple[str, float, float], ...] = ()
    """(service, observed s, downtime s) of each service counted for uptime."""
    last_applied_s: float | None = None
    """When the newest event was applied; at or after `end_s` the period was restated."""
    hourly_rates: tuple[tuple[float, float], ...] = ()
    """(in force since, rate) of every hourly rate that valued time saved in the period."""
    backfilled: int = 0
    """Events of a history import (`outcomesbackfill`) counted in the period."""
    ai_cost: float = 0.0
    """Cost of the period's priced model calls (part of `cost`)."""
    ai_calls: int = 0
    ai_unpriced_calls: int = 0
    cost_per_success: float | None = None
    """cost / succeeded runs; undefined without a succeeded run."""
    reviews: tuple[tuple[str, int], ...] = ()
    """(verdict, runs with that verdict) for every verdict, zeros included."""
    acceptance_ratio: float | None = None
    """(accepted + edited) / reviewed runs; undefined without a reviewed run."""
    review_coverage: float | None = None
    """reviewed runs / runs; undefined without a run."""
    forfeited_s: float = 0.0
    """Manual time of succeeded runs rejected or escalated: not time saved."""
    review_effort_s: float = 0.0
    """Human effort of the reviews (part of the effort taken off time saved)."""
    measured_value: float = 0.0
    """The part of `value` read off bills, invoices or meters (savings with `evidence:
    measured`); the rest (`estimated_value`) rests on assumptions."""
    baselines: tuple[tuple[str, int, float], ...] = ()
    """(automation, succeeded runs, manual s they reported) of each automation whose
    succeeded runs reported manual time: the baselines time saved rests on."""

    @property
    def estimated_value(self) -> float:
        """Estimated savings and time saved valued at the hourly rates in force."""
        return self.value - self.measured_value

    @property
    def restated(self) -> bool:
        return self.last_applied_s is not None and self.last_applied_s >= self.end_s


@dataclass(frozen=True, slots=True)
class TargetResult:
    """One declared objective judged against the period (docs/REFERENCE.md#formulas).

    Units: ratio for uptime, roi, success_rate and acceptance_rate; currency for savings;
    seconds for time_saved.
    """

    target: str
    objective: float
    projected: float | None
    attainment: float | None
    status: str
    """met, at_risk, off_target or insufficient_data."""


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    declared: bool = False
    team: str = "unknown"
    owner: str = "unknown"
    sponsor: str = "unknown"
    stage: str = "unknown"
    stage_since_s: float | None = None
    budget: float | None = None
    hourly_rate: float | None = None
    """The hourly rate in force now (values time saved; a dated list changes it)."""
    decision: str | None = None
    """The decision in force (`kind: Decision`): scale, continue, pause, stop or extend."""
    decision_owner: str | None = None
    review_due_s: float | None = None
    """When the decision in force is to be reviewed by (the end of its `reviewBy` day)."""


@dataclass(frozen=True, slots=True)
class ClosedPeriod:
    """A closed period's figures as last restated (the boards' month-over-month history).

    Every project has its closed months; a quarterly project its closed quarters too.
    `status` only for the project's own period kind (its targets are judged per quarter,
    not per month)."""

    key: str
    """`2026-11` or `2026-Q3`."""
    kind: str
    """month or quarter."""
    value: float
    cost: float
    time_saved_s: float
    roi: float | None
    uptime: float | None
    status: str | None


@dataclass(frozen=True, slots=True)
class StatementSnapshot:
    """The version of a cloud bill's statement a project's cost rests on."""

    statement: str
    """`provider/billing account/billing period start`."""
    version: str
    """The digest of the statement's content, as imported."""
    issued_s: float
    """When that version was imported."""
    cost: float
    """The project's cost in it (credits netted)."""


@dataclass(frozen=True, slots=True)
class ProjectSnapshot:
    name: str
    counters: ProjectCounters
    period: PeriodResult
    """The project's current period at snapshot time."""
    last_event_time_s: float | None
    info: ProjectInfo = field(default_factory=ProjectInfo)
    targets: tuple[TargetResult, ...] = ()
    status: str = "unscoped"
    """met, at_risk, off_target, insufficient_data or unscoped."""
    lifetime_value: float = 0.0
    lifetime_cost: float = 0.0
    incidents: tuple[tuple[str, int, int, int], ...] = ()
    """(service, open, resolved, pending) of every service with incidents; pending = a
    resolution whose start is not known yet (its `opened` has not arrived)."""
    incidents_open_since: tuple[tuple[str, float], ...] = ()
    """(service, start of its longest-open incident) for services with one open now."""
    declared_since_s: float | None = None
    """When its declaration first took effect (a declared project that never reported is
    stalled from then on)."""
    last_received_s: float | None = None
    """When the collector last applied an event of the project (wall clock; history
    imports too): what staleness is judged by."""
    reviews_pending: int = 0
    """Reviews whose run has not arrived yet."""
    history: tuple[ClosedPeriod, ...] = ()
    """Its last closed periods, oldest first: periods that ended before the project was
    known (not observed) are left out."""
    statements: tuple[StatementSnapshot, ...] = ()
    """The cloud bill statements its cost rests on, by statement."""
    revision: int | None = None
    """Its declaration's latest revision (1, 2, …), and since when it is in force."""
    revised_s: float | None = None
    readiness: tuple[tuple[str, bool, str], ...] = ()
    """(check, passed, why not in words) of every readiness check (docs/REFERENCE.md#readiness)."""

    @property
    def ready(self) -> bool:
        """Every readiness check passed: its ROI can be judged."""
        return all(passed for _, passed, _ in self.readiness)


@dataclass(frozen=True, slots=True)
class Portfolio:
    projects: tuple[tuple[str, int], ...] = ()
    """(status, number of projects) for every project status, zeros included."""
    meeting_objectives_ratio: float | None = None
    """met / (met + at_risk + off_target); None when no project is judged."""
    ready_ratio: float | None = None
    """Projects ready to be judged / projects; None without a project."""


@dataclass(frozen=True, slots=True)
class Histogram:
    """Cumulative bucket counts, as Prometheus exposes them; `+Inf` is `count`."""

    bounds: tuple[float, ...]
    cumulative: tuple[int, ...]
    count: int
    total: float
    minimum: float = 0.0
    maximum: float = 0.0
    since_s: float = 0.0
    """When observation started (process start: this histogram is not persisted)."""


@dataclass(frozen=True, slots=True)
class Readiness:
    """What the collector's /readyz says, as numbers."""

    ready: bool
    partitions_held: int
    """Partitions of the events topic its consumers (all workers) hold now."""
    unheld_s: float
    """Seconds since it last held a partition; 0 while it holds some."""


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    version: str
    events: tuple[tuple[str, str, int], ...] = ()
    """(type, result, count); result in accepted, duplicate, rejected."""
    rejected: tuple[tuple[str, int], ...] = ()
    """(reason, count)."""
    consumer_lag: tuple[tuple[str, int, int], ...] = ()
    """(topic, partition, records behind the end of the partition)."""
    event_delay: Histogram = field(default_factory=lambda: Histogram((), (), 0, 0.0))
    label_overflow: tuple[tuple[str, int], ...] = ()
    """(label, count of values folded into `other`)."""
    declaration_files: tuple[tuple[str, bool], ...] = ()
    """(file, valid); an invalid file's last good version stays in force."""
    declaration_reloads: tuple[tuple[str, int], ...] = ()
    """(result, count) with result in success, failure."""
    otlp_exports: tuple[tuple[str, int], ...] = ()
    """(result, count) of OTLP pushes, when the OTLP exporter is enabled."""
    since_s: float = 0.0
    """When the persisted health counters started (first event ever, survives restarts)."""
    readiness: Readiness | None = None
    """The serving collector's readiness (added when exported; None in stored state)."""
    engine: str = ""
    """How the serving collector runs its per-event modules: `compiled` (mypyc) or `pure`
    (the Python source, about 1.3x the CPU per event); added when exported, empty in
    stored state."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    taken_at_s: float
    currency: str
    projects: tuple[ProjectSnapshot, ...]
    health: HealthSnapshot
    portfolio: Portfolio = field(default_factory=Portfolio)
