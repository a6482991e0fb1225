from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.engine.periods import PeriodKind, parse_period_key, period_containing
from collector.engine.units import from_micros, from_money, to_micros, to_money


@pytest.mark.parametrize(
    ("moment", "kind", "key", "start", "end"),
    [
        (datetime(2026, 11, 15, tzinfo=UTC), PeriodKind.MONTH, "2026-11", "2026-11-01", "2026-12-01"),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), PeriodKind.MONTH, "2026-12", "2026-12-01", "2027-01-01"),
        (datetime(2026, 2, 10, tzinfo=UTC), PeriodKind.QUARTER, "2026-Q1", "2026-01-01", "2026-04-01"),
        (datetime(2026, 12, 1, tzinfo=UTC), PeriodKind.QUARTER, "2026-Q4", "2026-10-01", "2027-01-01"),
        # 00:30 on 1 Dec at UTC+2 is still November in UTC
        (datetime(2026, 12, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))), PeriodKind.MONTH, "2026-11", "2026-11-01", "2026-12-01"),
    ],
)  # fmt: skip
def test_period_containing(
    moment: datetime, kind: PeriodKind, key: str, start: str, end: str
) -> None:
    period = period_containing(moment, kind)
    assert period.key == key
    assert period.start == datetime.fromisoformat(start).replace(tzinfo=UTC)
    assert period.end == datetime.fromisoformat(end).replace(tzinfo=UTC)
    assert parse_period_key(key) == period


def test_end_is_exclusive() -> None:
    period = period_containing(datetime(2026, 11, 1, tzinfo=UTC), PeriodKind.MONTH)
    assert period_containing(period.end, PeriodKind.MONTH).key == "2026-12"


def test_elapsed_fraction() -> None:
    period = period_containing(datetime(2026, 4, 1, tzinfo=UTC), PeriodKind.MONTH)
    assert period.elapsed(datetime(2026, 4, 16, tzinfo=UTC)) == Fraction(1, 2)
    assert period.elapsed(datetime(2026, 5, 16, tzinfo=UTC)) == 1
    assert period.elapsed(datetime(2026, 3, 16, tzinfo=UTC)) == 0


@pytest.mark.parametrize("key", ["2026-13", "2026-Q5", "26-01", "2026-1", "2026", "soon"])
def test_bad_period_keys(key: str) -> None:
    with pytest.raises(ValueError, match="2026-10 or 2026-Q3"):
        parse_period_key(key)


def test_micros_are_exact_decimal_sums() -> None:
    assert from_micros(to_micros(0.1) + to_micros(0.2)) == 0.3
    assert to_micros(1e-7) == 0
    assert to_micros(2.5e-6) == 2  # half to even
    assert to_micros(123456789.123456) == 123456789123456
    assert to_micros(-0.0) == 0
    # a whole amount beyond the fast range: from its shortest repr, as every other value
    assert to_micros(2.0**60) == 1_152_921_504_606_847 * 10**6 * 1_000


@given(
    st.decimals(
        min_value=-(10**9), max_value=10**9, places=9, allow_nan=False, allow_infinity=False
    )
)
def test_fast_micros_equal_exact_decimal_rounding(value: Decimal) -> None:
    number = float(value)
    exact = int((Decimal(repr(number)) * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    assert to_micros(number) == exact


def test_money_is_exact_to_a_billionth() -> None:
    # 42 input + 17 output tokens of a small model: six decimals would say 0.000017 (+3%)
    assert to_money(0.0000165) == 16_500
    assert from_money(to_money(0.1) + to_money(0.2)) == 0.3
    assert to_money(2.5e-9) == 2  # half to even
    assert to_money(123456.123456789) == 123456_123456789
    assert to_money(-12.5) == -12_500_000_000
    assert to_money(2.0**60) == 1_152_921_504_606_847 * 10**9 * 1_000


@given(
    st.decimals(
        min_value=-(10**9), max_value=10**9, places=12, allow_nan=False, allow_infinity=False
    )
)
def test_fast_money_equals_exact_decimal_rounding(value: Decimal) -> None:
    number = float(value)
    exact = int(
        (Decimal(repr(number)) * 1_000_000_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    )
    assert to_money(number) == exact
