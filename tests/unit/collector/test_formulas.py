"""Golden values for the docs/REFERENCE.md#formulas realized-value formulas."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from collector.engine.aggregates import PeriodTotals
from collector.engine.formulas import period_result
from collector.engine.periods import PeriodKind, period_containing
from collector.engine.rates import HourlyRates, epoch_day

PERIOD = period_containing(datetime(2026, 11, 15, tzinfo=UTC), PeriodKind.MONTH)
M = 1_000_000
N = 1_000_000_000
"""Money is held in billionths, durations in millionths."""


def totals(**values: Any) -> PeriodTotals:
    """Totals as given; their time saved all on the period's first day."""
    saved = values.get("manual_succeeded_us", 0) - values.get("human_effort_us", 0)
    values.setdefault("saved_by_day_us", Counter({epoch_day(PERIOD.start_s): saved}))
    return PeriodTotals(**values)


def rate(value: int) -> HourlyRates:
    return HourlyRates.flat(Fraction(value))


def test_golden_period() -> None:
    result = period_result(
        PERIOD,
        totals(
            runs=Counter(succeeded=8, failed=2, cancelled=1),
            manual_succeeded_us=8 * 900 * M,
            human_effort_us=1800 * M,
            runs_with_effort=3,
            cost_n=Counter(run=55 * N, licence=100 * N),
            savings_n=Counter(cloud=250 * N),
            downtime_us=Counter({"api": 36 * M, "db": 0}),
            observed_us=Counter({"api": 3600 * M, "db": 3600 * M}),
        ),
        rate(85),
        None,
    )
    # time saved = 7200 - 1800 = 5400 s = 1.5 h; value = 250 + 1.5*85 = 377.5
    assert result.time_saved_s == 5400.0
    assert result.cost == 155.0
    assert result.savings == 250.0
    assert result.value == 377.5
    assert result.net_value == 222.5
    assert result.roi == 222.5 / 155.0
    assert result.uptime == 1 - 36 / 7200
    assert result.success_ratio == 0.8
    assert result.intervention_ratio == 3 / 11
    assert result.runs == (("succeeded", 8), ("failed", 2), ("cancelled", 1))
    assert (result.start_s, result.end_s) == (PERIOD.start_s, PERIOD.end_s)


def test_no_events_leaves_ratios_undefined() -> None:
    result = period_result(PERIOD, totals(), rate(100), None)
    assert (result.cost, result.value, result.net_value, result.time_saved_s) == (0, 0, 0, 0)
    assert result.roi is None
    assert result.uptime is None
    assert result.success_ratio is None
    assert result.intervention_ratio is None
    assert result.runs == (("succeeded", 0), ("failed", 0), ("cancelled", 0))


def test_cancelled_runs_do_not_count_for_success() -> None:
    result = period_result(PERIOD, totals(runs=Counter(cancelled=4)), rate(100), None)
    assert result.success_ratio is None
    assert result.intervention_ratio == 0.0


def test_negative_time_saved_lowers_value() -> None:
    result = period_result(
        PERIOD,
        totals(
            runs=Counter(failed=1),
            human_effort_us=7200 * M,
            runs_with_effort=1,
            cost_n=Counter(run=N),
        ),
        rate(100),
        None,
    )
    assert result.time_saved_s == -7200.0
    assert result.value == -200.0
    assert result.net_value == -201.0
    assert result.roi == -201.0


def test_uptime_exactly_one_and_service_filter() -> None:
    observed = totals(
        downtime_us=Counter({"api": 0, "batch": 600 * M}),
        observed_us=Counter({"api": 3600 * M, "batch": 3600 * M}),
    )
    assert period_result(PERIOD, observed, rate(1), {"api"}).uptime == 1.0
    assert period_result(PERIOD, observed, rate(1), None).uptime == 1 - 600 / 7200
    assert period_result(PERIOD, observed, rate(1), {"unknown"}).uptime is None


def test_exact_rounding_of_thirds() -> None:
    result = period_result(
        PERIOD, totals(cost_n=Counter(run=3 * N), savings_n=Counter(cloud=4 * N)), rate(0), None
    )
    assert result.roi == float(Fraction(1, 3))
