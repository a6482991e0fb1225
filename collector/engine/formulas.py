"""docs/REFERENCE.md#formulas formulas over one period's totals. Pure functions, exact arithmetic.

Sums are integer millionths; derived values are computed as fractions and rounded
to float once, so the result does not depend on the order the events came in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from collector.engine.aggregates import AI_COST_CATEGORY, LifetimeCounters, PeriodTotals
from collector.engine.attainment import Realized
from collector.engine.periods import Period
from collector.engine.rates import SECONDS_PER_DAY, HourlyRates
from collector.engine.reviews import acceptance
from collector.engine.units import MONEY_SCALE, SCALE
from schemas.events import VERDICTS
from schemas.snapshot import OUTCOMES, PeriodResult

SECONDS_PER_HOUR = 3600
ServiceTime = tuple[str, int, int]
"""(service, observed µs, downtime µs) in a period."""
Availability = tuple[ServiceTime, ...]
"""Each counted service's time in a period (from windows, or from incidents)."""


def exact(value: float) -> Fraction:
    """The decimal a person wrote (`85.5`), not the binary float nearest to it."""
    return Fraction(Decimal(repr(value)))


def _micros(value: int) -> Fraction:
    return Fraction(value, SCALE)


def _money(value: int) -> Fraction:
    return Fraction(value, MONEY_SCALE)


def value_of(savings_n: int, saved_by_day_us: Mapping[int, int], rates: HourlyRates) -> Fraction:
    """savings + time_saved_s / 3600 × hourlyRate, each day's time saved valued at the
    rate in force that day."""
    return _money(savings_n) + rates.value_of_time(saved_by_day_us)


def ratio(numerator: Fraction | int, denominator: Fraction | int) -> Fraction | None:
    """numerator / denominator, undefined (None) when the denominator is 0."""
    if denominator == 0:
        return None
    return Fraction(numerator) / Fraction(denominator)


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def windows_availability(totals: PeriodTotals, services: Collection[str] | None) -> Availability:
    """The windows basis: each of `services` (None = every reported one) as its windows
    counted it (union per month, see `windows`)."""
    names = sorted(totals.observed_us) if services is None else sorted(services)
    return tuple(
        (name, totals.observed_us.get(name, 0), totals.downtime_us.get(name, 0)) for name in names
    )


def uptime_of(times: Availability) -> tuple[Fraction | None, int]:
    """(1 − Σ downtime / Σ observed, observed µs); undefined when nothing was observed."""
    observed = sum(seconds for _, seconds, _ in times)
    downtime = sum(down for _, _, down in times)
    if observed == 0:
        return None, 0
    return 1 - Fraction(downtime, observed), observed


def uptime(totals: PeriodTotals, services: Collection[str] | None) -> tuple[Fraction | None, int]:
    """Uptime and observed µs of the windows basis over `services` (None = all)."""
    return uptime_of(windows_availability(totals, services))


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """What every view of one period's totals starts from, computed once (`figures`)."""

    cost: Fraction
    savings_n: int
    saved_us: int
    value: Fraction
    succeeded: int
    failed: int
    times: Availability
    uptime: Fraction | None
    observed_us: int


def figures(
    totals: PeriodTotals,
    rates: HourlyRates,
    services: Collection[str] | None,
    availability: Availability | None = None,
) -> PeriodFigures:
    """Cost, value, runs and uptime of `totals` (`availability`: the incidents basis;
    None: the windows basis over `services`)."""
    savings_n = sum(totals.savings_n.values())
    times = availability if availability is not None else windows_availability(totals, services)
    realized_uptime, observed_us = uptime_of(times)
    return PeriodFigures(
        cost=_money(sum(totals.cost_n.values())),
        savings_n=savings_n,
        saved_us=totals.saved_us,
        value=value_of(savings_n, totals.saved_by_day_us, rates),
        succeeded=totals.runs["succeeded"],
        failed=totals.runs["failed"],
        times=times,
        uptime=realized_uptime,
        observed_us=observed_us,
    )


def realized(
    period: Period,
    totals: PeriodTotals,
    rates: HourlyRates,
    services: Collection[str] | None,
    now: datetime,
    *,
    availability: Availability | None = None,
    computed: PeriodFigures | None = None,
) -> Realized:
    """Exact realized values of `totals` over `period`, as targets judge them
    (`computed`: its `figures`, when the caller has them)."""
    known = computed or figures(totals, rates, services, availability)
    succeeded, failed = known.succeeded, known.failed
    accepted, reviewed = acceptance(totals.reviews.items())
    return Realized(
        elapsed=period.elapsed(now),
        savings=_money(known.savings_n),
        time_saved_s=_micros(known.saved_us),
        roi=roi_of(known.value, known.cost),
        cost=known.cost,
        uptime=known.uptime,
        observed_s=_micros(known.observed_us),
        success_rate=ratio(succeeded, succeeded + failed),
        decided_runs=succeeded + failed,
        acceptance_rate=ratio(accepted, reviewed),
        reviewed_runs=reviewed,
    )


def period_result(
    period: Period,
    totals: PeriodTotals,
    rates: HourlyRates,
    services: Collection[str] | None,
    availability: Availability | None = None,
    *,
    computed: PeriodFigures | None = None,
) -> PeriodResult:
    """Every realized §5 value of one project over `period` (`computed`: its `figures`,
    when the caller has them)."""
    known = computed or figures(totals, rates, services, availability)
    cost, value = known.cost, known.value
    accepted, reviewed = acceptance(totals.reviews.items())
    succeeded, failed = known.succeeded, known.failed
    return PeriodResult(
        key=period.key,
        start_s=period.start_s,
        end_s=period.end_s,
        time_saved_s=known.saved_us / SCALE,
        cost=float(cost),
        savings=known.savings_n / MONEY_SCALE,
        value=float(value),
        net_value=float(value - cost),
        roi=_float(roi_of(value, cost)),
        uptime=_float(known.uptime),
        success_ratio=_float(ratio(succeeded, succeeded + failed)),
        intervention_ratio=_float(ratio(totals.runs_with_effort, sum(totals.runs.values()))),
        runs=tuple((outcome, totals.runs[outcome]) for outcome in OUTCOMES),
        observed_s=known.observed_us / SCALE,
        services=tuple(
            (name, seen / SCALE, down / SCALE) for name, seen, down in known.times if seen
        ),
        last_applied_s=totals.last_applied_s,
        backfilled=totals.backfilled,
        ai_cost=totals.cost_n.get(AI_COST_CATEGORY, 0) / MONEY_SCALE,
        ai_calls=totals.ai_calls,
        ai_unpriced_calls=totals.ai_unpriced,
        cost_per_success=_float(ratio(cost, succeeded)),
        reviews=tuple((verdict, totals.reviews[verdict]) for verdict in VERDICTS),
        acceptance_ratio=_float(ratio(accepted, reviewed)),
        review_coverage=_float(ratio(reviewed, sum(totals.runs.values()))),
        forfeited_s=totals.forfeited_us / SCALE,
        review_effort_s=totals.review_effort_us / SCALE,
        measured_value=totals.measured_n / MONEY_SCALE,
        baselines=tuple(
            (automation, totals.succeeded[automation], manual_us / SCALE)
            for automation, manual_us in sorted(totals.baselines.items())
            if manual_us
        ),
        hourly_rates=tuple(
            (since_day * SECONDS_PER_DAY, float(rate))
            for since_day, rate in rates.in_force(period.start_s, period.end_s)
        ),
    )


def lifetime_value(counters: LifetimeCounters, rates: HourlyRates) -> Fraction:
    return value_of(sum(counters.savings_n.values()), counters.saved_by_day_us, rates)


def lifetime_cost(counters: LifetimeCounters) -> Fraction:
    """Costs minus credits since the first event."""
    return _money(counters.net_cost_n)


def roi_of(value: Fraction, cost: Fraction) -> Fraction | None:
    """net value / cost; undefined unless the cost is positive (credits can exceed costs:
    a negative denominator would turn a loss into a gain)."""
    return None if cost <= 0 else (value - cost) / cost
