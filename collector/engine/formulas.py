"""DESIGN §5 formulas over one period's totals. Pure functions, exact arithmetic.

Sums are integer millionths; derived values are computed as fractions and rounded
to float once, so the result does not depend on the order the events came in.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from fractions import Fraction

from collector.engine.aggregates import PeriodTotals
from collector.engine.periods import Period
from collector.engine.units import SCALE
from schemas.snapshot import OUTCOMES, PeriodResult

SECONDS_PER_HOUR = 3600


def exact(value: float) -> Fraction:
    """The decimal a person wrote (`85.5`), not the binary float nearest to it."""
    return Fraction(Decimal(repr(value)))


def time_saved_us(totals: PeriodTotals) -> int:
    """Σ manual_duration_s of succeeded runs − Σ human_effort_s of all runs (millionths)."""
    return totals.manual_succeeded_us - totals.human_effort_us


def period_value(totals: PeriodTotals, hourly_rate: Fraction) -> Fraction:
    """savings + time_saved_s / 3600 × hourlyRate."""
    savings = Fraction(sum(totals.savings_u.values()), SCALE)
    hours = Fraction(time_saved_us(totals), SCALE * SECONDS_PER_HOUR)
    return savings + hours * hourly_rate


def ratio(numerator: Fraction | int, denominator: Fraction | int) -> float | None:
    """numerator / denominator, undefined (None) when the denominator is 0."""
    if denominator == 0:
        return None
    return float(Fraction(numerator) / Fraction(denominator))


def uptime(totals: PeriodTotals, services: Collection[str] | None) -> tuple[float | None, int]:
    """(1 − Σ downtime / Σ window length over `services` (None = all), observed µs)."""
    names = totals.observed_us.keys() if services is None else services
    observed = sum(totals.observed_us.get(name, 0) for name in names)
    downtime = sum(totals.downtime_us.get(name, 0) for name in names)
    if observed == 0:
        return None, 0
    return float(1 - Fraction(downtime, observed)), observed


def period_result(
    period: Period,
    totals: PeriodTotals,
    hourly_rate: Fraction,
    services: Collection[str] | None,
) -> PeriodResult:
    """Every realized §5 value of one project over `period`."""
    cost = Fraction(sum(totals.cost_u.values()), SCALE)
    value = period_value(totals, hourly_rate)
    net_value = value - cost
    succeeded, failed = totals.runs["succeeded"], totals.runs["failed"]
    all_runs = sum(totals.runs.values())
    realized_uptime, observed_us = uptime(totals, services)
    return PeriodResult(
        key=period.key,
        start_s=period.start_s,
        end_s=period.end_s,
        time_saved_s=time_saved_us(totals) / SCALE,
        cost=float(cost),
        savings=sum(totals.savings_u.values()) / SCALE,
        value=float(value),
        net_value=float(net_value),
        roi=ratio(net_value, cost),
        uptime=realized_uptime,
        success_ratio=ratio(succeeded, succeeded + failed),
        intervention_ratio=ratio(totals.runs_with_effort, all_runs),
        runs=tuple((outcome, totals.runs[outcome]) for outcome in OUTCOMES),
        observed_s=observed_us / SCALE,
    )
