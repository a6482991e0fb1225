"""The report as a terminal table (rich). Pure: a `Report` in, a console written."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from outcomes.report.collect import Report
from outcomes.report.words import (
    ATTAINMENT_NOTE,
    CHANGES_NOTE,
    DECISIONS_NOTE,
    EVIDENCE_NOTE,
    READINESS_NOTE,
    STATEMENTS_NOTE,
    STATUS_LABEL,
    ai_cost,
    assumptions,
    attainment_text,
    changed,
    decision_figures,
    duration,
    marks,
    money,
    not_ready,
    percent,
    portfolio_line,
    rates_text,
    readiness_line,
    review_sentence,
    reviewed,
    revisions_text,
    roi_text,
    target_value,
    uptime_text,
    valued,
)


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
