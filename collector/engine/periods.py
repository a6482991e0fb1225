"""Calendar periods in UTC: months and quarters (docs/REFERENCE.md#declarations)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """The half-open interval [start, end) of one calendar month or quarter."""

    start: datetime
    end: datetime
    kind: PeriodKind
    key: str = field(init=False, compare=False, repr=False)
    """`2026-11` for a month, `2026-Q4` for a quarter."""
    start_s: float = field(init=False, compare=False, repr=False)
    end_s: float = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # derived once: periods are shared (cached) and read on every event
        start = self.start
        if self.kind is PeriodKind.MONTH:
            key = f"{start.year}-{start.month:02d}"
        else:
            key = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "start_s", start.timestamp())
        object.__setattr__(self, "end_s", self.end.timestamp())

    def elapsed(self, now: datetime) -> Fraction:
        """f = (now - start) / (end - start), exact, clamped to [0, 1]."""
        total = self.end - self.start
        done = now - self.start
        total_us = (total.days * 86_400 + total.seconds) * 1_000_000 + total.microseconds
        done_us = (done.days * 86_400 + done.seconds) * 1_000_000 + done.microseconds
        return min(Fraction(1), max(Fraction(0), Fraction(done_us, total_us)))

    def contains_month(self, month: Period) -> bool:
        return self.start <= month.start < self.end


def period_containing(moment: datetime, kind: PeriodKind) -> Period:
    """The period of `kind` that contains `moment` (any timezone; computed in UTC)."""
    utc = moment.astimezone(UTC)
    return _period(utc.year, utc.month, kind)


def month_and_quarter(moment: datetime) -> tuple[Period, Period]:
    """The month and the quarter that contain `moment`: what judging one event needs,
    from one conversion to UTC."""
    utc = moment.astimezone(UTC)
    return _month_and_quarter(utc.year, utc.month)


def quarter_of(period: Period) -> Period:
    """The quarter that contains `period` (a month, or the quarter itself)."""
    return _period(period.start.year, period.start.month, PeriodKind.QUARTER)


@lru_cache(maxsize=4096)
def _month_and_quarter(year: int, month: int) -> tuple[Period, Period]:
    return _period(year, month, PeriodKind.MONTH), _period(year, month, PeriodKind.QUARTER)


@lru_cache(maxsize=4096)
def _period(year: int, month: int, kind: PeriodKind) -> Period:
    months = 1 if kind is PeriodKind.MONTH else 3
    first_month = month if kind is PeriodKind.MONTH else (month - 1) // 3 * 3 + 1
    start = datetime(year, first_month, 1, tzinfo=UTC)
    return Period(start, _add_months(start, months), kind)


def parse_period_key(key: str) -> Period:
    """`2026-10` (a month) or `2026-Q3` (a quarter) -> its Period; ValueError if neither."""
    year_text, _, rest = key.partition("-")
    if not year_text.isdigit() or len(year_text) != 4:
        raise ValueError(f"period {key!r} must look like 2026-10 or 2026-Q3")
    year = int(year_text)
    if rest[:1] in ("Q", "q") and rest[1:] in ("1", "2", "3", "4"):
        start = datetime(year, (int(rest[1:]) - 1) * 3 + 1, 1, tzinfo=UTC)
        return Period(start, _add_months(start, 3), PeriodKind.QUARTER)
    if rest.isdigit() and 1 <= int(rest) <= 12 and len(rest) == 2:
        start = datetime(year, int(rest), 1, tzinfo=UTC)
        return Period(start, _add_months(start, 1), PeriodKind.MONTH)
    raise ValueError(f"period {key!r} must look like 2026-10 or 2026-Q3")


def _add_months(start: datetime, months: int) -> datetime:
    month_index = start.month - 1 + months
    return start.replace(year=start.year + month_index // 12, month=month_index % 12 + 1)
