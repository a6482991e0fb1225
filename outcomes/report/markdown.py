"""The report as Markdown (for a pull request, a wiki or a chat). Pure: a `Report` in,
text out."""

from __future__ import annotations

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
    uptime_text,
    valued,
)


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
