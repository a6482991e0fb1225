"""`outcomes report`: period results per project, read from the state store.

Uses the engine's own evaluation over the stored state, so the report shows the same
numbers as `/metrics` for the current period, and restated numbers for closed ones.
Safe while a collector runs (SQLite WAL readers never block the writer).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from collector.config import Settings
from collector.engine.engine import Engine, EngineSettings
from collector.engine.formulas import exact
from collector.engine.periods import Period, parse_period_key, period_containing
from collector.engine.project import IncidentSpan
from collector.state.open import open_store
from collector.targets.registry import DeclarationRegistry
from schemas.snapshot import ProjectSnapshot


class ReportError(Exception):
    pass


def collect_rows(
    settings: Settings, period_key: str | None, clock: Callable[[], datetime]
) -> list[dict[str, Any]]:
    """One dict per project (declared or seen) for the requested or current period."""
    postgres = settings.state.startswith(("postgresql://", "postgres://"))
    if not postgres and not Path(settings.state).exists():
        raise ReportError(f"no state store at {settings.state} (run a collector first)")
    requested = parse_period_key(period_key) if period_key else None
    registry = DeclarationRegistry(settings.targets, exact(settings.default_hourly_rate))
    result = registry.reload()
    if result.errors:
        raise ReportError("\n".join(str(error) for error in result.errors))
    store = open_store(settings.state)
    try:
        loaded = store.load_all()
    finally:
        store.close()
    engine = Engine(EngineSettings(currency=settings.currency), clock, result.catalog)
    engine.restore(loaded)
    rows = []
    for name in engine.project_names():
        profile = engine.policy.profile(name)
        period = requested or period_containing(clock(), profile.period_kind)
        row = row_of(engine.period_view(name, period), period, clock())
        row["incidents"] = [incident_of(span) for span in engine.incidents_in(name, period)]
        rows.append(row)
    return rows


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


def row_of(project: ProjectSnapshot, period: Period, now: datetime) -> dict[str, Any]:
    p = project.period
    return {
        "project": project.name,
        "team": project.info.team,
        "owner": project.info.owner,
        "stage": project.info.stage,
        "period": period.key,
        "closed": now >= period.end,
        "restated": p.restated,
        "backfilled": p.backfilled,
        "status": project.status,
        "time_saved_s": p.time_saved_s,
        "cost": p.cost,
        "savings": p.savings,
        "value": p.value,
        "net_value": p.net_value,
        "roi": p.roi,
        "uptime": p.uptime,
        "success_ratio": p.success_ratio,
        "intervention_ratio": p.intervention_ratio,
        "runs": dict(p.runs),
        "hourly_rates": [
            {"since": _day(since_s), "value": rate} for since_s, rate in p.hourly_rates
        ],
        "targets": [
            {
                "target": t.target,
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


def rates_text(rates: list[dict[str, Any]]) -> str:
    """`85` for one rate; `85 (since 2026-01-01), 95 (since 2026-07-01)` for several."""
    if len(rates) == 1:
        return f"{rates[0]['value']:g}"
    return ", ".join(f"{rate['value']:g} (since {rate['since']})" for rate in rates)


def render_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2) + "\n"


def render_csv(rows: list[dict[str, Any]]) -> str:
    """One line per project and target (a project without targets gets one line)."""
    out = io.StringIO()
    lists = ("runs", "hourly_rates", "targets", "incidents")
    scalar = [k for k in rows[0] if k not in lists] if rows else []
    fields = [*scalar, "runs", "incidents", "hourly_rates", "target", "objective", "projected"]
    fields += ["attainment", "target_status"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        base = {k: _cell(row[k]) for k in scalar}
        base["runs"] = sum(row["runs"].values())
        base["incidents"] = len(row.get("incidents", ()))
        base["hourly_rates"] = rates_text(row["hourly_rates"])
        for target in row["targets"] or [{}]:
            writer.writerow(
                {
                    **base,
                    "target": target.get("target", ""),
                    "objective": _cell(target.get("objective")),
                    "projected": _cell(target.get("projected")),
                    "attainment": _cell(target.get("attainment")),
                    "target_status": target.get("status", ""),
                }
            )
    return out.getvalue()


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def render_table(rows: list[dict[str, Any]], console: Console) -> None:
    period = rows[0]["period"] if rows else "—"
    table = Table(title=f"Outcomes — period {period}")
    for column in ("project", "team", "status", "time saved h", "cost", "savings", "value"):
        table.add_column(
            column, justify="left" if column in ("project", "team", "status") else "right"
        )
    for column in ("rate/h", "ROI", "uptime", "success", "targets (attainment)"):
        table.add_column(column, justify="right" if column != "targets (attainment)" else "left")
    for row in rows:
        targets = ", ".join(
            f"{t['target']} {_fmt(t['attainment'], '.2f')} {t['status']}" for t in row["targets"]
        )
        flag = _marks(row)
        table.add_row(
            row["project"] + flag,
            row["team"],
            row["status"],
            f"{row['time_saved_s'] / 3600:,.1f}",
            f"{row['cost']:,.2f}",
            f"{row['savings']:,.2f}",
            f"{row['value']:,.2f}",
            rates_text(row["hourly_rates"]),
            _fmt(row["roi"], ".2f"),
            _fmt(row["uptime"], ".4%"),
            _fmt(row["success_ratio"], ".1%"),
            targets or "—",
        )
    console.print(table)
    listed = [(row["project"], incident) for row in rows for incident in row.get("incidents", ())]
    if listed:
        incidents = Table(title=f"Incidents — period {period}")
        for column in ("project", "service", "incident", "title", "started", "ended",
                       "down in period", "resolved by"):  # fmt: skip
            incidents.add_column(column, justify="right" if column == "down in period" else "left")
        for project, incident in listed:
            incidents.add_row(
                project, incident["service"], incident["incident"], incident["title"] or "—",
                incident["started"], incident["ended"] or "open",
                _duration(incident["downtime_in_period_s"]), incident["resolved_by"] or "—",
            )  # fmt: skip
        console.print(incidents)


def _marks(row: dict[str, Any]) -> str:
    """` (restated)`, ` (restated; 12 from history)` for a period a history import changed."""
    marks = ["restated"] if row["restated"] or row["backfilled"] else []
    if row["backfilled"]:
        marks.append(f"{row['backfilled']} from history")
    return f" ({'; '.join(marks)})" if marks else ""


def _duration(seconds: float) -> str:
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}h{minute:02d}m{second:02d}s" if hours else f"{minute}m{second:02d}s"
