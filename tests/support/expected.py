"""An independent computation of what a set of distinct valid events must export.

Written from docs/REFERENCE.md#formulas directly, with Decimal/Fraction arithmetic and no code
from the collector, so tests compare the collector against a second implementation.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from tests.support import model
from tests.support.live import Series, value


def _d(x: Any) -> Fraction:
    return Fraction(Decimal(repr(float(x))))


@dataclass
class ProjectTotals:
    runs: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    manual: Fraction = Fraction(0)
    effort: Fraction = Fraction(0)
    with_effort: int = 0
    cost: dict[str, Fraction] = field(default_factory=lambda: defaultdict(Fraction))
    savings: dict[str, Fraction] = field(default_factory=lambda: defaultdict(Fraction))
    down: dict[str, Fraction] = field(default_factory=lambda: defaultdict(Fraction))
    observed: dict[str, Fraction] = field(default_factory=lambda: defaultdict(Fraction))
    """Lifetime counters: per service, the union of its windows in every month."""
    period_down: Fraction = Fraction(0)
    period_observed: Fraction = Fraction(0)
    """The current month's part (a window may begin in the month before)."""
    windows: list[dict[str, Any]] = field(default_factory=list)
    incidents: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    """(service, open | resolved | pending) -> incidents in that state."""


def expected_totals(documents: list[dict[str, Any]]) -> dict[str, ProjectTotals]:
    """documents: structured CloudEvent dicts of distinct, valid, current-period events."""
    result: dict[str, ProjectTotals] = defaultdict(ProjectTotals)
    for doc in documents:
        data, kind = doc["data"], doc["type"]
        totals = result[data["project"]]
        if kind == "outcomes.run.finished":
            totals.runs[(data["automation"], data["outcome"])] += 1
            if data["outcome"] == "succeeded":
                totals.manual += _d(data["manual_duration_s"])
            totals.effort += _d(data["human_effort_s"])
            totals.with_effort += data["human_effort_s"] > 0
            totals.cost["run"] += _d(data["cost"])
        elif kind == "outcomes.cost.incurred":
            totals.cost[data["category"]] += _d(data["amount"])
        elif kind == "outcomes.savings.realized":
            totals.savings[data["category"]] += _d(data["amount"])
        elif kind == "outcomes.incident.opened":
            totals.incidents[(data["service"], "open")] += 1
        elif kind == "outcomes.incident.resolved":
            state = "pending" if data.get("started_at") is None else "resolved"
            totals.incidents[(data["service"], state)] += 1
        else:
            totals.windows.append({
                "service": data["service"], "downtime_s": data["downtime_s"],
                "start": datetime.fromisoformat(data["window_start"]),
                "end": datetime.fromisoformat(data["window_end"]),
            })  # fmt: skip
    month = model.period_bounds(datetime.now(UTC), "month")[0].isoformat()
    for totals in result.values():
        # overlapping windows count once, a window across a month start is split pro rata
        for (first, service), pieces in model.window_pieces(totals.windows).items():
            observed_us, down_us = model.union_totals(pieces)
            totals.observed[service] += Fraction(observed_us, 10**6)
            totals.down[service] += Fraction(down_us, 10**6)
            if first == month:
                totals.period_observed += Fraction(observed_us, 10**6)
                totals.period_down += Fraction(down_us, 10**6)
    return result


def mismatches(series: Series, expected: dict[str, ProjectTotals], rate: Fraction) -> list[str]:
    """Every §6 counter and current-period gauge that differs from `expected`."""
    problems: list[str] = []

    def check(name: str, want: Fraction | int | None, **labels: str) -> None:
        got = value(series, name, **labels)
        wanted = None if want is None else float(want)
        if got != wanted:
            problems.append(f"{name}{labels}: got {got}, want {wanted}")

    for project, t in expected.items():
        for (automation, outcome), n in t.runs.items():
            check("outcomes_runs_total", n, project=project, automation=automation, outcome=outcome)
        check("outcomes_manual_time_avoided_seconds_total", t.manual, project=project)
        check("outcomes_human_effort_seconds_total", t.effort, project=project)
        for category, amount in t.cost.items():
            check("outcomes_cost_total", amount, project=project, category=category, currency="USD")
        for category, amount in t.savings.items():
            check(
                "outcomes_savings_total", amount, project=project, category=category, currency="USD"
            )
        for service, seconds in t.down.items():
            check("outcomes_downtime_seconds_total", seconds, project=project, service=service)
            check(
                "outcomes_observed_seconds_total",
                t.observed[service],
                project=project,
                service=service,
            )
        services = {service for service, _ in t.incidents}
        for service in services:
            for metric, state in (("open", "open"), ("total", "resolved"), ("pending", "pending")):
                check(f"outcomes_incidents_{metric}", t.incidents.get((service, state), 0),
                      project=project, service=service)  # fmt: skip
        problems.extend(_period_mismatches(check, project, t, rate))
    return problems


def _period_mismatches(check: Any, project: str, t: ProjectTotals, rate: Fraction) -> list[str]:
    cost = sum(t.cost.values(), Fraction(0))
    savings = sum(t.savings.values(), Fraction(0))
    saved = t.manual - t.effort
    value_ = savings + saved / 3600 * rate
    by_outcome: dict[str, int] = defaultdict(int)
    for (_, outcome), n in t.runs.items():
        by_outcome[outcome] += n
    runs = sum(by_outcome.values())
    observed = t.period_observed
    decided = by_outcome["succeeded"] + by_outcome["failed"]
    check("outcomes_period_time_saved_seconds", saved, project=project)
    check("outcomes_period_cost", cost, project=project, currency="USD")
    check("outcomes_period_savings", savings, project=project, currency="USD")
    check("outcomes_period_value", value_, project=project, currency="USD")
    check("outcomes_period_net_value", value_ - cost, project=project, currency="USD")
    check(
        "outcomes_period_roi_ratio", (value_ - cost) / cost if cost > 0 else None, project=project
    )
    uptime = 1 - t.period_down / observed if observed else None
    check("outcomes_period_uptime_ratio", uptime, project=project)
    success = Fraction(by_outcome["succeeded"], decided) if decided else None
    check("outcomes_period_success_ratio", success, project=project)
    check(
        "outcomes_period_intervention_ratio",
        Fraction(t.with_effort, runs) if runs else None,
        project=project,
    )
    for outcome in ("succeeded", "failed", "cancelled"):
        check("outcomes_period_runs", by_outcome[outcome], project=project, outcome=outcome)
    return []
