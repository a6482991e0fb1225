"""The report's numbers: each project's periods, evaluated from the stored state.

Uses the engine's own evaluation over the stored state, so the report shows the same
numbers as `/metrics` for the current period, and restated numbers for closed ones.
Safe while a collector runs (SQLite WAL readers never block the writer). Each project is
judged on its own period kind: a quarterly project asked for `2026-11` shows 2026-Q4, a
monthly one asked for `2026-Q4` shows its months of that quarter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

from collector.config import Settings
from collector.declarations.catalog import Catalog
from collector.declarations.registry import DeclarationRegistry
from collector.engine.engine import Engine
from collector.engine.formulas import exact
from collector.engine.periods import Period, PeriodKind, parse_period_key, period_containing
from collector.engine.project import IncidentSpan
from collector.engine.revisions import in_force, lowered
from collector.engine.settings import EngineSettings
from collector.engine.statements import StatementShare
from collector.state.model import LoadedState
from collector.state.open import open_store
from collector.state.store import UnusableStoreError
from schemas.snapshot import PROJECT_STATUSES, ProjectSnapshot

MAX_TREND: Final = 36
NOT_OBSERVED: Final = "not_observed"
"""A period that ended before the project existed (declared or reported): nothing judged."""
STATUS_ORDER: Final = (
    "off_target", "at_risk", "insufficient_data", "met", "unscoped", NOT_OBSERVED
)  # fmt: skip
"""Worst first: a leader reads the problems before the successes."""
TARGET_UNITS: Final = {
    "uptime": "ratio",
    "success_rate": "ratio",
    "acceptance_rate": "ratio",
    "roi": "ratio",
    "savings": "currency",
    "time_saved": "seconds",
}
assert set(STATUS_ORDER) == {*PROJECT_STATUSES, NOT_OBSERVED}


class ReportError(Exception):
    pass


@dataclass(frozen=True)
class Report:
    currency: str
    generated_at: str
    declarations: str | None
    """Where the declarations came from (None: none found, everything unscoped)."""
    request: str
    """What was asked: `current`, `2026-10`, `2026-Q3` or `last:6`."""
    rows: list[dict[str, Any]]
    """One per project and period, worst status first, each project's periods oldest first."""
    portfolio: dict[str, Any] = field(default_factory=dict)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    """Every decision declared, oldest first, with its project's figures as of its date."""

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "generated_at": self.generated_at,
            "declarations": self.declarations,
            "period": self.request,
            "portfolio": self.portfolio,
            "projects": self.rows,
            "decisions": self.decisions,
        }


def periods_for(request: str | None, kind: PeriodKind, now: datetime) -> list[Period]:
    """The periods of `kind` a request names, oldest first (ValueError if malformed)."""
    current = period_containing(now, kind)
    if request is None:
        return [current]
    if request.startswith("last:"):
        count = request[5:]
        if not count.isdigit() or not 1 <= int(count) <= MAX_TREND:
            raise ValueError(f"period {request!r}: last:N needs N from 1 to {MAX_TREND}")
        found = [current]
        for _ in range(int(count) - 1):
            found.append(period_containing(found[-1].start - timedelta(microseconds=1), kind))
        return found[::-1]
    asked = parse_period_key(request)
    if asked.kind is kind or kind is PeriodKind.QUARTER:
        return [period_containing(asked.start, kind)]
    months = [period_containing(asked.start, PeriodKind.MONTH)]
    while months[-1].end < asked.end and months[-1].end <= now:
        months.append(period_containing(months[-1].end, PeriodKind.MONTH))
    return months


def build_report(settings: Settings, request: str | None, clock: Callable[[], datetime]) -> Report:
    now = clock()
    engine, declared = _engine(settings, clock)
    rows: list[dict[str, Any]] = []
    for name in engine.project_names():
        profile = engine.policy.profile(name)
        for period in periods_for(request, profile.period_kind, now):
            row = row_of(engine.period_view(name, period), period, now, settings.currency)
            row["incidents"] = [incident_of(span) for span in engine.incidents_in(name, period)]
            row["statements"] = [
                statement_of(share) for share in engine.statements_in(name, period)
            ]
            row["uptime_basis"] = profile.uptime_from
            history = engine.revisions(name)
            row["revisions"] = [
                {"revision": r.revision, "effective": _iso_s(r.effective_s), "digest": r.digest}
                for r in in_force(history, period.start_s, period.end_s)
            ]
            row["objective_changes"] = lowered(history, period.start_s, period.end_s)
            rows.append(row)
    latest = {row["project"]: row for row in rows}  # each project's periods end newest
    rank = {name: STATUS_ORDER.index(row["status"]) for name, row in latest.items()}
    rows.sort(key=lambda row: (rank[row["project"]], row["project"], row["start"]))
    return Report(
        currency=settings.currency,
        generated_at=_iso_s(now.timestamp()),
        declarations=str(settings.targets) if declared else None,
        request=request or "current",
        rows=rows,
        portfolio=portfolio_of(list(latest.values())),
        decisions=decisions_of(engine, settings.currency),
    )


def decisions_of(engine: Engine, currency: str) -> list[dict[str, Any]]:
    """Every decision declared, oldest first, with its project's figures as of the end of
    its day (the period containing it, evaluated then: as `--at` would show them)."""
    catalog = engine.policy
    if not isinstance(catalog, Catalog):
        return []
    found = []
    for decision in sorted(catalog.decision_record, key=lambda d: (d.spec.date, d.spec.project)):
        spec, name = decision.spec, decision.spec.project
        moment = datetime.combine(spec.date + timedelta(days=1), time(), UTC) - timedelta(
            microseconds=1
        )
        period = period_containing(moment, catalog.profile(name).period_kind)
        row = row_of(engine.period_view(name, period, moment), period, moment, currency)
        in_force = catalog.decisions.get(name) is decision
        found.append({
            "project": name,
            "name": decision.name,
            "date": spec.date.isoformat(),
            "decision": spec.decision,
            "owner": spec.owner,
            "rationale": spec.rationale,
            "review_by": None if spec.reviewBy is None else spec.reviewBy.isoformat(),
            "in_force": in_force,
            "declared": name in set(catalog.declared_projects()),
            "figures": {key: row[key] for key in DECISION_FIGURES},
        })  # fmt: skip
    return found


DECISION_FIGURES: Final = (
    "period", "status", "value", "measured_value", "cost", "roi", "time_saved_s", "targets"
)  # fmt: skip
"""What a decision's entry shows of its project as of its date."""


def collect_rows(
    settings: Settings, request: str | None, clock: Callable[[], datetime]
) -> list[dict[str, Any]]:
    """One dict per project (declared or seen) and period, in project order."""
    report = build_report(settings, request, clock)
    return sorted(report.rows, key=lambda row: (row["project"], row["start"]))


def _engine(settings: Settings, clock: Callable[[], datetime]) -> tuple[Engine, bool]:
    """An engine holding everything stored, and whether any declaration was found."""
    loaded = stored(settings)
    registry = DeclarationRegistry(settings.targets, exact(settings.default_hourly_rate))
    result = registry.reload()
    if result.errors:
        raise ReportError("\n".join(str(error) for error in result.errors))
    engine = Engine(EngineSettings(currency=settings.currency), clock, result.catalog)
    engine.restore(loaded)
    return engine, any(True for _ in result.catalog.declared_projects())


def stored(settings: Settings) -> LoadedState:
    """Everything the collector's state store holds (read-only: safe while it runs)."""
    postgres = settings.state.startswith(("postgresql://", "postgres://"))
    if not postgres and not Path(settings.state).exists():
        raise ReportError(f"no state store at {settings.state} (run a collector first)")
    try:
        store = open_store(settings.state)
    except UnusableStoreError as error:
        raise ReportError(str(error)) from error
    try:
        return store.load_all(seen=False)
    finally:
        store.close()


SUMMED = ("value", "measured_value", "estimated_value", "cost", "net_value")
"""The money a portfolio's periods of one kind add up."""


def portfolio_of(latest: list[dict[str, Any]]) -> dict[str, Any]:
    """Projects per status in their latest period, the share meeting objectives, and money
    totals per period kind (`by_kind`): a month's and a quarter's value are never added."""
    counts = {status: 0 for status in STATUS_ORDER}
    for row in latest:
        counts[row["status"]] += 1
    judged = counts["met"] + counts["at_risk"] + counts["off_target"]
    by_kind: dict[str, dict[str, Any]] = {}
    for row in latest:
        totals = by_kind.setdefault(
            row["period_kind"],
            {"projects": 0, "periods": [], **dict.fromkeys(SUMMED, 0.0)},
        )
        totals["projects"] += 1
        if row["period"] not in totals["periods"]:
            totals["periods"].append(row["period"])
        for name in SUMMED:
            totals[name] += row[name]
    for totals in by_kind.values():
        totals["periods"].sort()
    ready = sum(1 for row in latest if row["ready"])
    return {
        "projects": len(latest),
        "ready": ready,
        "ready_ratio": ready / len(latest) if latest else None,
        "statuses": counts,
        "meeting_objectives": None if judged == 0 else counts["met"] / judged,
        "by_kind": dict(sorted(by_kind.items())),
    }


def statement_of(share: StatementShare) -> dict[str, Any]:
    return {
        "statement": share.statement,
        "version": share.version,
        "imported": _iso_s(share.issued_s),
        "cost_in_period": share.cost,
    }


def incident_of(span: IncidentSpan) -> dict[str, Any]:
    return {
        "service": span.service,
        "incident": span.key,
        "title": span.incident.title,
        "severity": span.incident.severity,
        "started": _iso(span.started_us),
        "ended": None if span.ended_us is None else _iso(span.ended_us),
        "downtime_in_period_s": span.within_us / 1e6,
        "resolved_by": span.incident.resolved_by if span.ended_us is not None else None,
    }


def _iso(moment_us: int) -> str:
    return datetime.fromtimestamp(moment_us / 1e6, tz=UTC).isoformat().replace("+00:00", "Z")


def _iso_s(moment_s: float) -> str:
    return _iso(round(moment_s * 1e6))


def observed_from(project: ProjectSnapshot) -> float | None:
    """When the project came to exist for the collector: the earliest of its first event
    (history imports included), its declaration taking effect and its declared stageSince."""
    known = (project.counters.since_s, project.declared_since_s, project.info.stage_since_s)
    found = [moment for moment in known if moment is not None]
    return min(found) if found else None


def row_of(
    project: ProjectSnapshot, period: Period, now: datetime, currency: str = "USD"
) -> dict[str, Any]:
    row = _row(project, period, now, currency)
    since = observed_from(project)
    if since is not None and period.end_s <= since:  # before the project existed
        row.update(status=NOT_OBSERVED, targets=[])
    return row


def _row(project: ProjectSnapshot, period: Period, now: datetime, currency: str) -> dict[str, Any]:
    p = project.period
    return {
        "project": project.name,
        "team": project.info.team,
        "owner": project.info.owner,
        "stage": project.info.stage,
        "period": period.key,
        "period_kind": period.kind.value,
        "start": _iso_s(period.start_s),
        "end": _iso_s(period.end_s),
        "closed": now >= period.end,
        "restated": p.restated,
        "backfilled": p.backfilled,
        "status": project.status,
        "currency": currency,
        "time_saved_s": p.time_saved_s,
        "cost": p.cost,
        "ai_cost": p.ai_cost,
        "ai_calls": p.ai_calls,
        "ai_unpriced_calls": p.ai_unpriced_calls,
        "cost_per_success": p.cost_per_success,
        "savings": p.savings,
        "value": p.value,
        "measured_value": p.measured_value,
        "estimated_value": p.estimated_value,
        "net_value": p.net_value,
        "roi": p.roi,
        "uptime": p.uptime,
        "success_ratio": p.success_ratio,
        "intervention_ratio": p.intervention_ratio,
        "runs": dict(p.runs),
        "reviews": dict(p.reviews),
        "acceptance_ratio": p.acceptance_ratio,
        "review_coverage": p.review_coverage,
        "forfeited_s": p.forfeited_s,
        "review_effort_s": p.review_effort_s,
        "reviews_pending": project.reviews_pending,
        "ready": project.ready,
        "missing": [reason for _, passed, reason in project.readiness if not passed],
        "readiness": [
            {"check": check, "passed": passed, "reason": reason or None}
            for check, passed, reason in project.readiness
        ],
        "hourly_rates": [
            {"since": _day(since_s), "value": rate} for since_s, rate in p.hourly_rates
        ],
        "baselines": [
            {
                "automation": automation,
                "succeeded_runs": runs,
                "manual_s": manual_s,
                "manual_s_per_run": manual_s / runs,
            }
            for automation, runs, manual_s in p.baselines
        ],
        "targets": [
            {
                "target": t.target,
                "unit": currency
                if TARGET_UNITS[t.target] == "currency"
                else TARGET_UNITS[t.target],
                "objective": t.objective,
                "projected": t.projected,
                "attainment": t.attainment,
                "status": t.status,
            }
            for t in project.targets
        ],
    }


def _day(moment_s: float) -> str:
    return datetime.fromtimestamp(moment_s, tz=UTC).date().isoformat()
