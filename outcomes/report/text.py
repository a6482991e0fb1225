"""The report as a terminal table, JSON, CSV or Markdown. Pure: a `Report` in, text out."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Final

from rich.console import Console
from rich.table import Table

from outcomes.report.collect import Report

STATUS_LABEL = {
    "off_target": "off target",
    "at_risk": "at risk",
    "insufficient_data": "insufficient data",
    "met": "met",
    "unscoped": "unscoped",
    "not_observed": "not observed",
}


def render_json(report: Report) -> str:
    return json.dumps(report.as_json(), indent=2) + "\n"


def render_csv(report: Report) -> str:
    """One line per project, period and target (a project without targets gets one line)."""
    rows = report.rows
    out = io.StringIO()
    lists = ("runs", "reviews", "hourly_rates", "targets", "incidents", "statements",
             "readiness", "missing", "revisions", "objective_changes", "baselines")  # fmt: skip
    scalar = [k for k in rows[0] if k not in lists] if rows else []
    fields = [*scalar, "runs", "reviewed_runs", "incidents", "statements", "hourly_rates"]
    fields += ["baselines"]
    fields += ["missing", "revisions", "objective_changes"]
    fields += ["target", "unit"]
    fields += ["objective"]
    fields += ["projected", "attainment", "target_status"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        base = {k: _cell(row[k]) for k in scalar}
        base["runs"] = sum(row["runs"].values())
        base["reviewed_runs"] = sum(row.get("reviews", {}).values())
        base["incidents"] = len(row.get("incidents", ()))
        base["statements"] = statements_text(row)
        base["hourly_rates"] = rates_text(row["hourly_rates"])
        base["baselines"] = baselines_text(row, shown=len(row.get("baselines", ())))
        base["missing"] = "; ".join(row.get("missing", ()))
        base["revisions"] = revisions_text(row)
        base["objective_changes"] = "; ".join(row.get("objective_changes", ()))
        for target in row["targets"] or [{}]:
            writer.writerow(
                {
                    **base,
                    "target": target.get("target", ""),
                    "unit": target.get("unit", ""),
                    "objective": _cell(target.get("objective")),
                    "projected": _cell(target.get("projected")),
                    "attainment": _cell(target.get("attainment")),
                    "target_status": target.get("status", ""),
                }
            )
    return out.getvalue()


def _cell(value: Any) -> Any:
    return "" if value is None else value


def statements_text(row: dict[str, Any]) -> str:
    """`AWS/1234/2026-11-01 @9f2c4e1a7b3d (imported 2026-11-20T06:00:00Z); …`"""
    return "; ".join(
        f"{s['statement']} @{s['version'][:12]} (imported {s['imported']})"
        for s in row.get("statements", ())
    )


def revisions_text(row: dict[str, Any]) -> str:
    """`2 (since 2026-11-12T09:30:00Z), 3 (since …)`: the revisions that judged the period."""
    return ", ".join(f"{r['revision']} (since {r['effective']})" for r in row.get("revisions", ()))


CHANGES_NOTE: Final = (
    "a period judged by more than one revision of the declaration: the objective in force"
    " changed during it (outcomes targets history PROJECT lists every change)"
)


def changed(report: Report) -> list[dict[str, Any]]:
    """The periods whose declaration changed during them."""
    return [row for row in report.rows if len(row.get("revisions", ())) > 1]


def _changes(report: Report, console: Console) -> None:
    rows = changed(report)
    if not rows:
        return
    table = Table(
        title="Declaration changes", title_justify="left", caption=CHANGES_NOTE,
        caption_justify="left",
    )  # fmt: skip
    for column in ("project", "period", "revisions", "objectives lowered or removed"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["project"], row["period"], revisions_text(row),
                      "; ".join(row["objective_changes"]) or "—")  # fmt: skip
    console.print(table)


DECISIONS_NOTE: Final = (
    "each decision on record (kind: Decision) with its project's figures as of the end of"
    " its day, in the period containing it; * = the decision in force"
)


def decision_figures(decision: dict[str, Any], currency: str) -> str:
    """`2026-09: at risk, value 1,200.00 USD, ROI 35.0%, time saved 79% of objective`."""
    f = decision["figures"]
    parts = [f"{f['period']}: {STATUS_LABEL[f['status']]}",
             f"value {money(f['value'])} {currency}", f"ROI {roi_text(f['roi'])}"]  # fmt: skip
    parts += [
        f"{t['target'].replace('_', ' ')} {attainment_text(t['attainment'])} of objective"
        for t in f["targets"]
        if t["attainment"] is not None
    ]
    return ", ".join(parts)


def _decisions(report: Report, console: Console, full: bool = True) -> None:
    if not report.decisions:
        return
    table = Table(
        title="Decisions", title_justify="left", caption=DECISIONS_NOTE, caption_justify="left"
    )
    names = ["project", "date", "decision", "owner", "review by", "figures then"]
    if full:
        names.append("rationale")
    for column in names:
        table.add_column(column, overflow="fold")
    for d in report.decisions:
        said = d["decision"] + (" *" if d["in_force"] else "")
        cells = [d["project"], d["date"], said, d["owner"], d["review_by"] or "—",
                 decision_figures(d, report.currency)]  # fmt: skip
        table.add_row(*cells, *([d["rationale"]] if full else []))
    console.print(table)


def rates_text(rates: list[dict[str, Any]]) -> str:
    """`85` for one rate; `85 (since 2026-01-01), 95 (since 2026-07-01)` for several."""
    if len(rates) == 1:
        return f"{rates[0]['value']:g}"
    return ", ".join(f"{rate['value']:g} (since {rate['since']})" for rate in rates)


def money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}%}"


ABSURD_ROI = 100.0
"""ROI above 10,000%: a near-zero cost, not a result to forward."""


def roi_text(value: float | None) -> str:
    """ROI as a percentage; one above 10,000% says its cost is near zero instead."""
    if value is None:
        return "—"
    if value > ABSURD_ROI:
        return "> 10,000% (cost ≈ 0)"
    return f"{value:.0%}" if abs(value) >= 10 else f"{value:.1%}"


ATTAINMENT_CAP = 10.0
"""The error-budget ratio's cap (collector.engine.attainment)."""
ATTAINMENT_NOTE = (
    "Attainment: projected ÷ objective (100% = on track to meet it; below 80% off target);"
    " for uptime, success rate and acceptance rate the error budget allowed ÷ the error"
    " budget used, at most 10× (shown as ≥ 10×)."
)


def unit_label(unit: str) -> str:
    """A target's unit as its values are shown: time in hours."""
    return "hours" if unit == "seconds" else unit


def attainment_text(value: float | None) -> str:
    """`79%`, `218%`; the error budget's cap as `≥ 10×`, never `1000%`."""
    if value is None:
        return "—"
    return "≥ 10×" if value >= ATTAINMENT_CAP else f"{value:.0%}"


def target_value(unit: str, value: float | None) -> str:
    """A target's objective or projection in its unit: % for ratios, hours for time."""
    if value is None:
        return "—"
    if unit == "ratio":
        return percent(value, 2)
    if unit == "seconds":
        return f"{value / 3600:,.1f} h"
    return f"{value:,.2f} {unit}"


def portfolio_line(report: Report) -> str:
    """`12 projects — 7 meeting objectives (70.0% of 10 judged): 7 met, 2 at risk, …`."""
    p = report.portfolio
    counts = p["statuses"]
    judged = counts["met"] + counts["at_risk"] + counts["off_target"]
    share = (
        "no project judged yet"
        if p["meeting_objectives"] is None
        else (f"{percent(p['meeting_objectives'])} of {judged} judged meeting objectives")
    )
    listed = ", ".join(f"{n} {STATUS_LABEL[s]}" for s, n in counts.items() if n)
    return f"{p['projects']} projects — {share} ({listed or 'none'})"


def marks(row: dict[str, Any]) -> str:
    """` (restated)`, ` (restated; 12 from history)` for a period a history import changed."""
    found = ["restated"] if row["restated"] or row["backfilled"] else []
    if row["backfilled"]:
        found.append(f"{row['backfilled']} from history")
    if row.get("objective_changes"):
        found.append("objective lowered during the period")
    return f" ({'; '.join(found)})" if found else ""


def declarations_warning(report: Report) -> str | None:
    if report.declarations is not None:
        return None
    return (
        "WARNING: no project declarations found (--targets, OUTCOMES_TARGETS or the config's"
        " `targets`): every project is shown unscoped, valued at the default hourly rate"
    )


WIDE_TABLE = 150
"""Columns the full project table needs; narrower terminals get the compact layout."""


def render_table(report: Report, console: Console, wide: bool | None = None) -> None:
    """The report for a terminal: the full tables from `WIDE_TABLE` columns (or `wide`),
    else a layout that reads at 80 columns (the key figures per project; targets with
    fewer columns)."""
    full = console.width >= WIDE_TABLE if wide is None else wide
    console.print(f"[bold]Outcomes — {report.request}[/] (currency {report.currency})")
    console.print(portfolio_line(report))
    console.print(readiness_line(report))
    console.print(_projects(report, full))
    if not full:
        console.print(
            "team, AI cost, uptime, success and rates: a terminal of 150 columns, --wide, or"
            " --format markdown|html|json",
            style="dim",
        )
    targets = _targets(report, full)
    if targets.row_count:
        console.print(targets)
    _readiness(report, console)
    _changes(report, console)
    _decisions(report, console, full)
    _evidence(report, console, full)
    _reviews(report, console)
    _incidents(report, console, full)
    _statements(report, console, full)


def _projects(report: Report, full: bool) -> Table:
    currency = report.currency
    table = Table(title="Projects", title_justify="left")
    names = ["project", "period", "status"] + (["team"] if full else [])
    numbers = (
        ["time saved h", f"value {currency}", f"cost {currency}", f"AI cost {currency}", "ROI",
         "uptime", "success", f"rate/h {currency}"]
        if full else ["saved h", f"value {currency}", f"cost {currency}", "ROI"]
    )  # fmt: skip
    for column in names:
        table.add_column(column, overflow="fold")
    for column in numbers:
        table.add_column(column, justify="right")
    for row in report.rows:
        cells = [row["project"] + marks(row), row["period"], STATUS_LABEL[row["status"]]]
        figures = [f"{row['time_saved_s'] / 3600:,.1f}", money(row["value"]), money(row["cost"])]
        if full:
            table.add_row(
                *cells, row["team"], *figures, ai_cost(row), roi_text(row["roi"]),
                uptime_text(row), percent(row["success_ratio"]),
                rates_text(row["hourly_rates"]),
            )  # fmt: skip
        else:
            table.add_row(*cells, *figures, roi_text(row["roi"]))
    return table


def _targets(report: Report, full: bool) -> Table:
    table = Table(
        title="Targets", title_justify="left", caption=ATTAINMENT_NOTE, caption_justify="left"
    )
    names = (
        ("project", "period", "target", "objective", "projected", "attainment")
        if full else ("project", "target", "objective", "projected", "attain.")
    )  # fmt: skip
    for column in names:
        numeric = column in ("objective", "projected", "attainment", "attain.")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    table.add_column("status")
    for row in report.rows:
        for t in row["targets"]:
            first = (
                [row["project"], row["period"], t["target"]]
                if full else [f"{row['project']} {row['period']}", t["target"]]
            )  # fmt: skip
            table.add_row(
                *first, target_value(t["unit"], t["objective"]),
                target_value(t["unit"], t["projected"]), attainment_text(t["attainment"]),
                STATUS_LABEL[t["status"]],
            )  # fmt: skip
    return table


def _incidents(report: Report, console: Console, full: bool = True) -> None:
    listed = [(row, incident) for row in report.rows for incident in row.get("incidents", ())]
    if not listed:
        return
    incidents = Table(title="Incidents", title_justify="left")
    columns = (
        ("project", "period", "service", "incident", "title", "started", "ended",
         "down in period", "resolved by")
        if full else ("project", "service", "incident", "started", "ended", "down")
    )  # fmt: skip
    for column in columns:
        incidents.add_column(column, justify="right" if column.startswith("down") else "left",
                             overflow="fold")  # fmt: skip
    for row, incident in listed:
        down = duration(incident["downtime_in_period_s"])
        ended = incident["ended"] or "open"
        if full:
            incidents.add_row(
                row["project"], row["period"], incident["service"], incident["incident"],
                incident["title"] or "—", incident["started"], ended, down,
                incident["resolved_by"] or "—",
            )  # fmt: skip
        else:
            incidents.add_row(row["project"], incident["service"], incident["incident"],
                              incident["started"], ended, down)  # fmt: skip
    console.print(incidents)


STATEMENTS_NOTE: Final = (
    "the latest import of each cloud bill replaced the earlier ones; version: the digest of"
    " what it said"
)


def _statements(report: Report, console: Console, full: bool = True) -> None:
    listed = [(row, s) for row in report.rows for s in row.get("statements", ())]
    if not listed:
        return
    table = Table(
        title="Cloud bills", title_justify="left", caption=STATEMENTS_NOTE, caption_justify="left"
    )
    names = (
        ("project", "period", "statement", "version", "imported", f"cost {report.currency}")
        if full else ("project", "statement", "version", f"cost {report.currency}")
    )  # fmt: skip
    for column in names:
        table.add_column(column, justify="right" if column.startswith("cost") else "left",
                         overflow="fold")  # fmt: skip
    for row, s in listed:
        cost, version = money(s["cost_in_period"]), s["version"][:12]
        if full:
            table.add_row(row["project"], row["period"], s["statement"], version,
                          s["imported"], cost)  # fmt: skip
        else:
            table.add_row(f"{row['project']} {row['period']}", s["statement"], version, cost)
    console.print(table)


def reviewed(row: dict[str, Any]) -> bool:
    return bool(sum(row.get("reviews", {}).values()) or row.get("reviews_pending"))


def review_sentence(row: dict[str, Any]) -> str:
    """What people's verdicts did to the period's time saved, in words."""
    reviews = row.get("reviews", {})
    total = sum(reviews.values())
    turned_down = reviews.get("rejected", 0) + reviews.get("escalated", 0)
    parts = [
        f"{turned_down:,} of {total:,} reviewed runs rejected or escalated:"
        f" {row['forfeited_s'] / 3600:,.1f} h of time saved forfeited"
        if turned_down
        else f"{total:,} reviewed runs, none rejected or escalated"
    ]
    if row.get("review_effort_s"):
        parts.append(f"{row['review_effort_s'] / 3600:,.1f} h spent reviewing")
    pending = row.get("reviews_pending", 0)
    if pending:
        parts.append(f"{pending:,} review{'s' if pending != 1 else ''} waiting for their run")
    return "; ".join(parts)


def _reviews(report: Report, console: Console) -> None:
    rows = [row for row in report.rows if reviewed(row)]
    if not rows:
        return
    table = Table(title="Human review", title_justify="left")
    for column in ("project", "period", "accepted", "coverage", "what the verdicts did"):
        table.add_column(column, overflow="fold", justify="right" if column in
                         ("accepted", "coverage") else "left")  # fmt: skip
    for row in rows:
        table.add_row(row["project"], row["period"], percent(row["acceptance_ratio"]),
                      percent(row["review_coverage"]), review_sentence(row))  # fmt: skip
    console.print(table)


def uptime_text(row: dict[str, Any]) -> str:
    """Uptime to 3 decimals; on the incidents basis a period without an incident says so:
    its uptime rests on no reported outage, not on an observation of the service."""
    shown = percent(row["uptime"], 3)
    quiet = row.get("uptime_basis") == "incidents" and not row.get("incidents")
    return f"{shown} (no incidents reported)" if quiet and row["uptime"] is not None else shown


def ai_cost(row: dict[str, Any]) -> str:
    """The period's AI cost; `—` without model calls; `+ N unpriced` when some had no price
    (their cost is missing, never guessed)."""
    calls = row.get("ai_calls", 0)
    if not calls:
        return "—"
    unpriced = row.get("ai_unpriced_calls", 0)
    shown = (
        money(row["ai_cost"])
        if row["ai_cost"] >= 0.005 or not row["ai_cost"]
        else (f"{row['ai_cost']:.6f}")
    )
    return shown + (f" + {unpriced:,} unpriced" if unpriced else "")


def duration(seconds: float) -> str:
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}h{minute:02d}m{second:02d}s" if hours else f"{minute}m{second:02d}s"


EVIDENCE_NOTE: Final = (
    "measured: savings read off bills, invoices or meters (evidence: measured); estimated:"
    " other savings, and time saved valued at the hourly rate in force"
)


def valued(row: dict[str, Any]) -> bool:
    return bool(row["value"] or row["measured_value"])


SHOWN_BASELINES: Final = 3


def baselines_text(row: dict[str, Any], shown: int = SHOWN_BASELINES) -> str:
    """`deploy 30m00s (120 runs), triage 4m00s (310 runs) and 2 more`: the manual time per
    succeeded run of the automations that saved the most time (all of them in JSON)."""
    ranked = sorted(row.get("baselines", ()), key=lambda b: (-b["manual_s"], b["automation"]))
    words = [
        f"{b['automation']} {duration(b['manual_s_per_run'])}"
        f" ({b['succeeded_runs']:,} run{'s' if b['succeeded_runs'] != 1 else ''})"
        for b in ranked[:shown]
    ]
    more = len(ranked) - shown
    return ", ".join(words) + (f" and {more} more" if more > 0 else "")


def assumptions(row: dict[str, Any], currency: str) -> str:
    """What a period's estimated value rests on, in words."""
    parts = []
    if row["time_saved_s"]:
        rates = rates_text(row["hourly_rates"]) or "the default rate"
        parts.append(f"{row['time_saved_s'] / 3600:,.1f} h saved at {rates} {currency}/h")
        if row.get("baselines"):
            parts.append(f"manual time per succeeded run: {baselines_text(row)}")
    estimated = row["savings"] - row["measured_value"]
    if abs(estimated) >= 0.005:
        parts.append(f"{money(estimated)} {currency} of savings estimated by their senders")
    return "; ".join(parts) or "—"


def _evidence(report: Report, console: Console, full: bool = True) -> None:
    rows = [row for row in report.rows if valued(row)]
    if not rows:
        return
    c = report.currency
    table = Table(
        title="Value: measured + estimated", title_justify="left", caption=EVIDENCE_NOTE,
        caption_justify="left",
    )  # fmt: skip
    names = [*(("project", "period") if full else ("project",)), f"value {c}", "measured",
             "estimated", "estimates rest on"]  # fmt: skip
    for column in names:
        numeric = column in (f"value {c}", "measured", "estimated")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        first = [row["project"], row["period"]] if full else [f"{row['project']} {row['period']}"]
        table.add_row(*first, money(row["value"]), money(row["measured_value"]),
                      money(row["estimated_value"]), assumptions(row, c))  # fmt: skip
    console.print(table)


READINESS_NOTE: Final = (
    "a project is ready to be judged with an owner, a sponsor, a measurable objective, a"
    " baseline for the time it values, recent data (7 days) for each objective and, as a"
    " pilot, a scope (stageSince and a decision with reviewBy)"
)


def not_ready(report: Report) -> list[dict[str, Any]]:
    """Each project not ready to be judged now (its newest row), in report order."""
    latest = {row["project"]: row for row in report.rows}
    return [row for row in latest.values() if not row["ready"]]


def readiness_line(report: Report) -> str:
    p = report.portfolio
    return f"{p['ready']} of {p['projects']} projects ready to be judged"


def _readiness(report: Report, console: Console) -> None:
    rows = not_ready(report)
    if not rows:
        return
    table = Table(
        title="Not ready to be judged", title_justify="left", caption=READINESS_NOTE,
        caption_justify="left",
    )  # fmt: skip
    table.add_column("project", overflow="fold")
    table.add_column("what is missing", overflow="fold")
    for row in rows:
        table.add_row(row["project"], "; ".join(row["missing"]))
    console.print(table)


def _governance_markdown(report: Report) -> list[str]:
    """Decisions, declaration changes and what keeps projects from being judged."""
    currency = report.currency
    lines: list[str] = []
    if report.decisions:
        lines += ["", "## Decisions", ""]
        lines += ["| Project | Date | Decision | Owner | Review by | Figures then | Rationale |"]
        lines += ["|---|---|---|---|---|---|---|"]
        lines += [
            f"| {_md(d['project'])} | {d['date']} | {d['decision']}{' *' if d['in_force'] else ''}"
            f" | {_md(d['owner'])} | {d['review_by'] or '—'} |"
            f" {_md(decision_figures(d, currency))} | {_md(d['rationale'])} |"
            for d in report.decisions
        ]
        lines += ["", DECISIONS_NOTE]
    change_lines = [
        f"| {_md(row['project'])} | {row['period']} | {revisions_text(row)} |"
        f" {_md('; '.join(row['objective_changes']) or '—')} |"
        for row in changed(report)
    ]
    if change_lines:
        lines += ["", "## Declaration changes", ""]
        lines += ["| Project | Period | Revisions | Objectives lowered or removed |"]
        lines += ["|---|---|---|---|", *change_lines, "", CHANGES_NOTE]
    unready = not_ready(report)
    if unready:
        lines += ["", "## Not ready to be judged", "", "| Project | What is missing |"]
        lines += ["|---|---|"]
        lines += [f"| {_md(r['project'])} | {_md('; '.join(r['missing']))} |" for r in unready]
        lines += ["", READINESS_NOTE]
    return lines


def render_markdown(report: Report) -> str:
    currency = report.currency
    lines = [f"# Outcomes — {report.request}", ""]
    warning = declarations_warning(report)
    if warning:
        lines += [f"> **{warning}**", ""]
    lines += [f"Currency {currency}; generated {report.generated_at}.", ""]
    lines += [f"**Portfolio:** {portfolio_line(report)}; {readiness_line(report)}", ""]
    lines += [
        f"| Project | Period | Status | Team | Time saved (h) | Value ({currency}) |"
        f" Cost ({currency}) | AI cost ({currency}) | ROI | Uptime | Success |",
        "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in report.rows:
        lines.append(
            f"| {_md(row['project'] + marks(row))} | {row['period']} |"
            f" {STATUS_LABEL[row['status']]} | {_md(row['team'])} |"
            f" {row['time_saved_s'] / 3600:,.1f} | {money(row['value'])} | {money(row['cost'])} |"
            f" {ai_cost(row)} | {roi_text(row['roi'])} | {uptime_text(row)} |"
            f" {percent(row['success_ratio'])} |"
        )
    target_lines = [
        f"| {_md(row['project'])} | {row['period']} | {t['target']} |"
        f" {target_value(t['unit'], t['objective'])} | {target_value(t['unit'], t['projected'])} |"
        f" {attainment_text(t['attainment'])} | {STATUS_LABEL[t['status']]} |"
        for row in report.rows
        for t in row["targets"]
    ]
    if target_lines:
        lines += ["", "## Targets", ""]
        lines += ["| Project | Period | Target | Objective | Projected | Attainment | Status |"]
        lines += ["|---|---|---|--:|--:|--:|---|", *target_lines, "", ATTAINMENT_NOTE]
    lines += _governance_markdown(report)
    value_lines = [
        f"| {_md(row['project'])} | {row['period']} | {money(row['value'])} |"
        f" {money(row['measured_value'])} | {money(row['estimated_value'])} |"
        f" {assumptions(row, currency)} |"
        for row in report.rows
        if valued(row)
    ]
    if value_lines:
        lines += ["", "## Value: measured + estimated", ""]
        lines += [f"| Project | Period | Value ({currency}) | Measured | Estimated |"
                  " Estimates rest on |"]  # fmt: skip
        lines += ["|---|---|--:|--:|--:|---|", *value_lines, "", EVIDENCE_NOTE]
    review_lines = [
        f"| {_md(row['project'])} | {row['period']} | {percent(row['acceptance_ratio'])} |"
        f" {percent(row['review_coverage'])} | {review_sentence(row)} |"
        for row in report.rows
        if reviewed(row)
    ]
    if review_lines:
        lines += ["", "## Human review", ""]
        lines += ["| Project | Period | Accepted | Coverage | What the verdicts did |"]
        lines += ["|---|---|--:|--:|---|", *review_lines]
    incident_lines = [
        f"| {_md(row['project'])} | {row['period']} | {_md(i['service'])} | {_md(i['incident'])} |"
        f" {_md(i['title'] or '—')} | {i['started']} | {i['ended'] or 'open'} |"
        f" {duration(i['downtime_in_period_s'])} | {i['resolved_by'] or '—'} |"
        for row in report.rows
        for i in row.get("incidents", ())
    ]
    if incident_lines:
        lines += ["", "## Incidents", ""]
        lines += ["| Project | Period | Service | Incident | Title | Started | Ended |"
                  " Down in period | Resolved by |"]  # fmt: skip
        lines += ["|---|---|---|---|---|---|---|--:|---|", *incident_lines]
    statement_lines = [
        f"| {_md(row['project'])} | {row['period']} | {_md(s['statement'])} |"
        f" `{s['version'][:12]}` | {s['imported']} | {money(s['cost_in_period'])} |"
        for row in report.rows
        for s in row.get("statements", ())
    ]
    if statement_lines:
        lines += ["", "## Cloud bills", ""]
        lines += [f"| Project | Period | Statement | Version | Imported | Cost ({currency}) |"]
        lines += ["|---|---|---|---|---|--:|", *statement_lines, "", STATEMENTS_NOTE]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")
