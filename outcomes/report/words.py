"""The report's wording, shared by every format (terminal, Markdown, HTML): figures
as people read them (money, percentages, durations, ROI and attainment with their
caps) and the sentences that explain a row. Pure: values in, text out."""

from __future__ import annotations

from typing import Any, Final

from outcomes.report.collect import Report

STATUS_LABEL = {
    "off_target": "off target",
    "at_risk": "at risk",
    "insufficient_data": "insufficient data",
    "met": "met",
    "unscoped": "unscoped",
    "not_observed": "not observed",
}


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


STATEMENTS_NOTE: Final = (
    "the latest import of each cloud bill replaced the earlier ones; version: the digest of"
    " what it said"
)


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
