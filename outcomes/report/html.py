"""The report as one self-contained HTML page: portfolio summary, status table, trend charts.

No script, no font, no image and no stylesheet is fetched: styles are inline and the charts
are inline SVG, so the file opens offline in any browser, forwards as an attachment and
prints on paper (print styles keep a project's charts on one page). Every number cell carries
its raw value (`data-value`) next to the formatted text.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any, Final

from outcomes.report.charts import (
    COLOURS,
    bar_chart,
    line_chart,
)
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
    declarations_warning,
    duration,
    marks,
    money,
    not_ready,
    percent,
    portfolio_line,
    readiness_line,
    review_sentence,
    reviewed,
    revisions_text,
    roi_text,
    target_value,
    unit_label,
    uptime_text,
    valued,
)

STYLE: Final = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;
margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#555}.warning{background:#fff4e5;border-left:4px solid #e0752d;padding:8px 12px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:140px}
.card b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border-bottom:1px solid #e3e3e3;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f7;font-weight:600}td[data-p]{white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{color:#fff;border-radius:10px;padding:1px 8px;font-size:12px;white-space:nowrap}
.trend{display:flex;gap:16px;flex-wrap:wrap;break-inside:avoid;page-break-inside:avoid}
.trend figure{margin:0}.trend figcaption{font-size:12px;color:#555}
.legend span{margin-right:12px;font-size:12px}
@page{margin:12mm}
@media print{body{margin:0;max-width:none;padding:0;font-size:9px}
.project{break-inside:avoid;page-break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
th,td{padding:2px 3px;overflow-wrap:anywhere}td[data-p]{white-space:normal}
.badge{padding:0 4px;font-size:8px}.card{min-width:0;padding:6px 8px}.card b{font-size:14px}
h1{font-size:16px}h2{font-size:12px;margin:14px 0 4px}tr{break-inside:avoid}}
"""


def render_html(report: Report) -> str:
    currency = report.currency
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Outcomes — {escape(report.request)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Outcomes — {escape(report.request)}</h1>",
        f'<p class="meta">Currency <b data-field="currency">{escape(currency)}</b> · generated'
        f" {escape(report.generated_at)} · declarations"
        f" {escape(report.declarations or 'none')}</p>",
    ]
    warning = declarations_warning(report)
    if warning:
        parts.append(f'<p class="warning">{escape(warning)}</p>')
    parts += _portfolio(report)
    parts += _status_table(report)
    parts += _trends(report)
    parts += _periods_table(report)
    parts += _readiness(report)
    parts += _changes(report)
    parts += _decisions(report)
    parts += _evidence(report)
    parts += _reviews(report)
    parts += _incidents(report)
    parts += _statements(report)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _decisions(report: Report) -> list[str]:
    """Each decision on record with its project's figures as of its date."""
    if not report.decisions:
        return []
    html = [
        "<h2>Decisions</h2>",
        '<table id="decisions"><thead><tr><th>Project</th><th>Date</th><th>Decision</th>'
        "<th>Owner</th><th>Review by</th><th>Figures then</th><th>Rationale</th></tr>"
        "</thead><tbody>",
    ]
    for d in report.decisions:
        html.append(
            f'<tr data-project="{escape(d["project"])}" data-date="{d["date"]}">'
            f"<td>{escape(d['project'])}</td><td data-p>{d['date']}</td>"
            f"<td>{escape(d['decision'])}{' *' if d['in_force'] else ''}</td>"
            f"<td>{escape(d['owner'])}</td><td data-p>{d['review_by'] or '—'}</td>"
            f"<td>{escape(decision_figures(d, report.currency))}</td>"
            f"<td>{escape(d['rationale'])}</td></tr>"
        )
    html += ["</tbody></table>", f'<p class="meta">{escape(DECISIONS_NOTE)}.</p>']
    return html


def _changes(report: Report) -> list[str]:
    """The periods judged by more than one revision of the declaration."""
    rows = changed(report)
    if not rows:
        return []
    html = [
        "<h2>Declaration changes</h2>",
        '<table id="revisions"><thead><tr><th>Project</th><th>Period</th><th>Revisions</th>'
        "<th>Objectives lowered or removed</th></tr></thead><tbody>",
    ]
    for row in rows:
        html.append(
            f'<tr data-project="{escape(row["project"])}" data-period="{row["period"]}">'
            f"<td>{escape(row['project'])}</td><td data-p>{row['period']}</td>"
            f"<td>{escape(revisions_text(row))}</td>"
            f"<td>{escape('; '.join(row['objective_changes']) or '—')}</td></tr>"
        )
    html += ["</tbody></table>", f'<p class="meta">{escape(CHANGES_NOTE)}.</p>']
    return html


def _readiness(report: Report) -> list[str]:
    """The projects that cannot be judged yet, and what each misses, in words."""
    rows = not_ready(report)
    if not rows:
        return []
    html = [
        "<h2>Not ready to be judged</h2>",
        '<table id="readiness"><thead><tr><th>Project</th><th>What is missing</th></tr>'
        "</thead><tbody>",
    ]
    for row in rows:
        html.append(
            f'<tr data-project="{escape(row["project"])}"><td>{escape(row["project"])}</td>'
            f"<td>{escape('; '.join(row['missing']))}</td></tr>"
        )
    html += ["</tbody></table>", f'<p class="meta">{escape(READINESS_NOTE)}.</p>']
    return html


def _evidence(report: Report) -> list[str]:
    """Each period's value as measured + estimated, with what the estimates rest on."""
    rows = [row for row in report.rows if valued(row)]
    if not rows:
        return []
    c = escape(report.currency)
    html = [
        "<h2>Value: measured + estimated</h2>",
        '<table id="evidence"><thead><tr><th>Project</th><th>Period</th>'
        f"<th>Value ({c})</th><th>Measured</th><th>Estimated</th><th>Estimates rest on</th>"
        "</tr></thead><tbody>",
    ]
    for row in rows:
        html.append(
            f'<tr data-project="{escape(row["project"])}" data-period="{row["period"]}">'
            f"<td>{escape(row['project'])}</td><td data-p>{row['period']}</td>"
            + _number("value", row["value"], money(row["value"]))
            + _number("measured_value", row["measured_value"], money(row["measured_value"]))
            + _number("estimated_value", row["estimated_value"], money(row["estimated_value"]))
            + f"<td>{escape(assumptions(row, report.currency))}</td></tr>"
        )
    html += ["</tbody></table>", f'<p class="meta">{escape(EVIDENCE_NOTE)}.</p>']
    return html


def _reviews(report: Report) -> list[str]:
    """What people's verdicts did to each period's time saved."""
    rows = [row for row in report.rows if reviewed(row)]
    if not rows:
        return []
    html = [
        "<h2>Human review</h2>",
        '<table id="reviews"><thead><tr><th>Project</th><th>Period</th><th>Accepted</th>'
        "<th>Coverage</th><th>Forfeited</th><th>What the verdicts did</th></tr></thead><tbody>",
    ]
    for row in rows:
        html.append(
            f'<tr data-project="{escape(row["project"])}" data-period="{row["period"]}">'
            f"<td>{escape(row['project'])}</td><td data-p>{row['period']}</td>"
            + _number("acceptance_ratio", row["acceptance_ratio"], percent(row["acceptance_ratio"]))
            + _number("review_coverage", row["review_coverage"], percent(row["review_coverage"]))
            + _number("forfeited_s", row["forfeited_s"], f"{row['forfeited_s'] / 3600:,.1f} h")
            + f"<td>{escape(review_sentence(row))}</td></tr>"
        )
    html.append("</tbody></table>")
    return html


def _incidents(report: Report) -> list[str]:
    """Every incident of the periods shown, as the table and JSON list them."""
    listed = [(row, incident) for row in report.rows for incident in row.get("incidents", ())]
    if not listed:
        return []
    html = [
        "<h2>Incidents</h2>",
        '<table id="incidents"><thead><tr><th>Project</th><th>Period</th><th>Service</th>'
        "<th>Incident</th><th>Title</th><th>Started</th><th>Ended</th>"
        "<th>Down in period</th><th>Resolved by</th></tr></thead><tbody>",
    ]
    for row, incident in listed:
        html.append(
            f'<tr data-project="{escape(row["project"])}" data-period="{row["period"]}">'
            f"<td>{escape(row['project'])}</td><td data-p>{row['period']}</td>"
            f"<td>{escape(incident['service'])}</td><td>{escape(incident['incident'])}</td>"
            f"<td>{escape(incident['title'] or '—')}</td><td>{escape(incident['started'])}</td>"
            f"<td>{escape(incident['ended'] or 'open')}</td>"
            + _number(
                "downtime_in_period_s",
                incident["downtime_in_period_s"],
                duration(incident["downtime_in_period_s"]),
            )
            + f"<td>{escape(incident['resolved_by'] or '—')}</td></tr>"
        )
    html.append("</tbody></table>")
    return html


def _statements(report: Report) -> list[str]:
    """Which import of each cloud bill the periods' cost rests on."""
    listed = [(row, s) for row in report.rows for s in row.get("statements", ())]
    if not listed:
        return []
    html = [
        "<h2>Cloud bills</h2>",
        '<table id="statements"><thead><tr><th>Project</th><th>Period</th><th>Statement</th>'
        f"<th>Version</th><th>Imported</th><th>Cost ({escape(report.currency)})</th></tr>"
        "</thead><tbody>",
    ]
    for row, s in listed:
        html.append(
            f'<tr data-project="{escape(row["project"])}" data-period="{row["period"]}">'
            f"<td>{escape(row['project'])}</td><td data-p>{row['period']}</td>"
            f"<td>{escape(s['statement'])}</td>"
            f'<td title="{escape(s["version"])}"><code>{escape(s["version"][:12])}</code></td>'
            f"<td>{escape(s['imported'])}</td>"
            + _number("cost_in_period", s["cost_in_period"], money(s["cost_in_period"]))
            + "</tr>"
        )
    html += ["</tbody></table>", f'<p class="meta">{escape(STATEMENTS_NOTE)}.</p>']
    return html


def _number(field: str, value: float | None, text: str) -> str:
    raw = "" if value is None else repr(float(value))
    return f'<td class="n" data-field="{field}" data-value="{raw}">{escape(text)}</td>'


def _badge(status: str) -> str:
    return (
        f'<span class="badge" data-status="{status}" style="background:{COLOURS[status]}">'
        f"{STATUS_LABEL[status]}</span>"
    )


def _portfolio(report: Report) -> list[str]:
    p = report.portfolio
    share = p["meeting_objectives"]
    cards = [
        ("Projects", "projects", p["projects"], str(p["projects"])),
        ("Meeting objectives", "meeting_objectives", share, percent(share)),
    ]
    c = report.currency
    for kind, totals in p["by_kind"].items():  # never a month added to a quarter
        whose = f"{kind}ly projects, {', '.join(totals['periods'])}"
        cards += [
            (f"Value ({c}) — {whose}", f"by_kind.{kind}.value", totals["value"],
             money(totals["value"])),
            (f"of which measured ({c})", f"by_kind.{kind}.measured_value",
             totals["measured_value"], money(totals["measured_value"])),
            (f"of which estimated ({c})", f"by_kind.{kind}.estimated_value",
             totals["estimated_value"], money(totals["estimated_value"])),
            (f"Cost ({c}) — {whose}", f"by_kind.{kind}.cost", totals["cost"],
             money(totals["cost"])),
            (f"Net value ({c}) — {whose}", f"by_kind.{kind}.net_value", totals["net_value"],
             money(totals["net_value"])),
        ]  # fmt: skip
    html = [
        "<h2>Portfolio</h2>",
        f"<p>{escape(portfolio_line(report))}; {escape(readiness_line(report))}</p>",
        '<div class="cards">',
    ]
    for label, field, value, text in cards:
        raw = "" if value is None else repr(float(value))
        html.append(
            f'<div class="card">{escape(label)}<b data-portfolio="{field}" data-value="{raw}">'
            f"{escape(text)}</b></div>"
        )
    html.append("</div>")
    counts = ", ".join(
        f'{_badge(status)} <span data-portfolio-status="{status}">{count}</span>'
        for status, count in p["statuses"].items()
    )
    html.append(f"<p>{counts}</p>")
    return html


def _latest(report: Report) -> list[dict[str, Any]]:
    """Each project's newest period, in the report's order (worst status first)."""
    latest: dict[str, dict[str, Any]] = {}
    for row in report.rows:
        latest[row["project"]] = row
    return list(latest.values())


def _status_table(report: Report) -> list[str]:
    c = escape(report.currency)
    html = [
        "<h2>Status</h2>",
        '<table id="status"><thead><tr><th>Project</th><th>Team</th><th>Period</th>'
        f"<th>Status</th><th>Value ({c})</th><th>Cost ({c})</th><th>ROI</th><th>Target</th>"
        "<th>Objective</th><th>Projected</th><th>Attainment</th><th>Target status</th>"
        "</tr></thead><tbody>",
    ]
    for row in _latest(report):
        targets = row["targets"] or [None]
        span = f' rowspan="{len(targets)}"' if len(targets) > 1 else ""
        for index, target in enumerate(targets):
            cells = []
            if index == 0:
                cells += [
                    f"<td{span}>{escape(row['project'] + marks(row))}</td>",
                    f"<td{span}>{escape(row['team'])}</td><td{span} data-p>{row['period']}</td>",
                    f"<td{span}>{_badge(row['status'])}</td>",
                    _number("value", row["value"], money(row["value"])).replace(
                        "<td", f"<td{span}"
                    ),
                    _number("cost", row["cost"], money(row["cost"])).replace("<td", f"<td{span}"),
                    _number("roi", row["roi"], roi_text(row["roi"])).replace("<td", f"<td{span}"),
                ]
            cells += _target_cells(target)
            attributes = f'data-project="{escape(row["project"])}" data-period="{row["period"]}"'
            if target is not None:
                attributes += f' data-target="{target["target"]}"'
            html.append(f"<tr {attributes}>{''.join(cells)}</tr>")
    html.append(f'</tbody></table><p class="meta">{escape(ATTAINMENT_NOTE)}</p>')
    return html


def _target_cells(target: dict[str, Any] | None) -> list[str]:
    if target is None:
        return ['<td colspan="5">no objectives declared</td>']
    unit = target["unit"]
    return [
        f"<td>{target['target']} <small>({escape(unit_label(unit))})</small></td>",
        _number("objective", target["objective"], target_value(unit, target["objective"])),
        _number("projected", target["projected"], target_value(unit, target["projected"])),
        _number("attainment", target["attainment"], attainment_text(target["attainment"])),
        f"<td>{_badge(target['status'])}</td>",
    ]


def _trends(report: Report) -> list[str]:
    by_project: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in report.rows:
        by_project[row["project"]].append(row)
    html = ["<h2>Trends</h2>"]
    for project, every in by_project.items():
        rows = [row for row in every if row["status"] != "not_observed"]  # before it existed
        if not rows:
            continue
        labels = [row["period"] for row in rows]
        attainment: dict[str, list[float | None]] = {}
        for index, row in enumerate(rows):
            for target in row["targets"]:
                points = attainment.setdefault(target["target"], [None] * len(rows))
                points[index] = target["attainment"]
        html.append(f'<section class="project"><h3>{escape(project)}</h3><div class="trend">')
        html.append(
            "<figure>"
            + bar_chart(labels, [row["value"] for row in rows], [row["cost"] for row in rows])
            + f"<figcaption>Value and cost per period ({escape(report.currency)})</figcaption>"
            "</figure>"
        )
        if attainment:
            html.append(
                "<figure>"
                + line_chart(labels, attainment)
                + "<figcaption>Attainment per target (1 = objective met; 0.8 = at risk)"
                "</figcaption></figure>"
            )
        html.append("</div></section>")
    return html


def _periods_table(report: Report) -> list[str]:
    c = escape(report.currency)
    html = [
        "<h2>Every period</h2>",
        '<table id="periods"><thead><tr><th>Project</th><th>Period</th><th>Status</th>'
        f"<th>Time saved (h)</th><th>Savings ({c})</th><th>Value ({c})</th><th>Cost ({c})</th>"
        f"<th>AI cost ({c})</th><th>Net value ({c})</th><th>ROI</th><th>Uptime</th>"
        "<th>Success</th></tr></thead><tbody>",
    ]
    for row in report.rows:
        html.append(
            f'<tr data-project="{escape(row["project"])}" data-period="{row["period"]}">'
            f"<td>{escape(row['project'] + marks(row))}</td><td data-p>{row['period']}</td>"
            f"<td>{_badge(row['status'])}</td>"
            + _number("time_saved_s", row["time_saved_s"], f"{row['time_saved_s'] / 3600:,.1f}")
            + _number("savings", row["savings"], money(row["savings"]))
            + _number("value", row["value"], money(row["value"]))
            + _number("cost", row["cost"], money(row["cost"]))
            + _number("ai_cost", row["ai_cost"], ai_cost(row))
            + _number("net_value", row["net_value"], money(row["net_value"]))
            + _number("roi", row["roi"], roi_text(row["roi"]))
            + _number("uptime", row["uptime"], uptime_text(row))
            + _number("success_ratio", row["success_ratio"], percent(row["success_ratio"]))
            + "</tr>"
        )
    html.append("</tbody></table>")
    return html
