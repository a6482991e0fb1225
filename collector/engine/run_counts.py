"""A run counted in its project's lifetime counters and its month's totals at once.

Most events are runs: both aggregates are updated here in one call, the run's numbers
converted once (costs and savings: `LifetimeCounters.add`, `PeriodTotals.add`).
"""

from __future__ import annotations

from collector.engine.aggregates import RUN_COST_CATEGORY, LifetimeCounters, PeriodTotals
from collector.engine.fields import RunFields
from collector.engine.rates import SECONDS_PER_DAY
from collector.engine.units import to_micros, to_money


def count_run(
    counters: LifetimeCounters,
    totals: PeriodTotals,
    label: str,
    run: RunFields,
    event_s: float,
) -> tuple[int, int]:
    """Count a run (`run`: its data's fields) of automation `label` at event time
    `event_s`; returns its epoch day and manual duration in µs (what its review needs)."""
    effort, manual, cost = run["human_effort_s"], run["manual_duration_s"], run["cost"]
    effort_us = to_micros(effort) if effort else 0
    manual_us = to_micros(manual) if manual else 0
    cost_n = to_money(cost) if cost else 0
    outcome = run["outcome"]
    day = int(event_s // SECONDS_PER_DAY)
    first, last = counters.first_event_s, counters.last_event_s
    if first is None or event_s < first:
        counters.first_event_s = event_s
    if last is None or event_s > last:
        counters.last_event_s = event_s
    runs = counters.runs
    key = (label, outcome)
    runs[key] = runs.get(key, 0) + 1
    month_runs = totals.runs
    month_runs[outcome] = month_runs.get(outcome, 0) + 1
    counters.human_effort_us += effort_us
    totals.human_effort_us += effort_us
    if effort_us > 0:
        totals.runs_with_effort += 1
    by_day, month_by_day = counters.saved_by_day_us, totals.saved_by_day_us
    if outcome == "succeeded":
        counters.manual_avoided_us += manual_us
        totals.manual_succeeded_us += manual_us
        baselines, succeeded = totals.baselines, totals.succeeded
        baselines[label] = baselines.get(label, 0) + manual_us
        succeeded[label] = succeeded.get(label, 0) + 1
        saved_us = manual_us - effort_us
        by_day[day] = by_day.get(day, 0) + saved_us
        month_by_day[day] = month_by_day.get(day, 0) + saved_us
    elif effort_us:
        by_day[day] = by_day.get(day, 0) - effort_us
        month_by_day[day] = month_by_day.get(day, 0) - effort_us
    spent, month_spent = counters.cost_n, totals.cost_n
    spent[RUN_COST_CATEGORY] = spent.get(RUN_COST_CATEGORY, 0) + cost_n
    month_spent[RUN_COST_CATEGORY] = month_spent.get(RUN_COST_CATEGORY, 0) + cost_n
    return day, manual_us
