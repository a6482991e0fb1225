"""Versioned baselines: the hourly rate in force on each day (`hourlyRate`, docs/REFERENCE.md).

Time saved is valued at the rate in force at each run's event time, so a new rate never
rewrites the value of past runs. Rates change at midnight UTC, so aggregates keep time
saved per UTC day (`epoch_day`) and any dated list of rates values them exactly, however
late the list itself changed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Final

from collector.engine.units import SCALE

SECONDS_PER_DAY: Final = 86_400
SECONDS_PER_HOUR: Final = 3_600
_EPOCH: Final = date(1970, 1, 1)


def epoch_day(moment_s: float) -> int:
    """Days since 1970-01-01 of a UTC timestamp (the key time saved is kept under)."""
    return int(moment_s // SECONDS_PER_DAY)


def day_of(day: date) -> int:
    return (day - _EPOCH).days


@dataclass(frozen=True, slots=True)
class HourlyRates:
    """(first epoch day, rate) in ascending order. The first rate also covers every
    earlier day: a run is never left without a rate."""

    changes: tuple[tuple[int, Fraction], ...]

    def __post_init__(self) -> None:
        if not self.changes:
            raise ValueError("an hourly rate list needs at least one rate")
        days = [day for day, _ in self.changes]
        if days != sorted(set(days)):
            raise ValueError("hourly rates must be in ascending order of distinct days")

    @classmethod
    def flat(cls, rate: Fraction) -> HourlyRates:
        """One rate for every day (a plain `hourlyRate: 85`)."""
        return cls(((0, rate),))

    def rate_on(self, day: int) -> Fraction:
        index = bisect_right(self.changes, day, key=lambda change: change[0])
        return self.changes[max(index - 1, 0)][1]

    def value_of_time(self, saved_by_day_us: Mapping[int, int]) -> Fraction:
        """Σ time saved per day (µs) / 3600 × the rate in force that day."""
        if len(self.changes) == 1:
            return (
                Fraction(sum(saved_by_day_us.values()), SCALE * SECONDS_PER_HOUR)
                * (self.changes[0][1])
            )
        per_rate: dict[int, int] = {}
        for day, saved_us in saved_by_day_us.items():
            index = max(bisect_right(self.changes, day, key=lambda change: change[0]) - 1, 0)
            per_rate[index] = per_rate.get(index, 0) + saved_us
        total = Fraction(0)
        for index, saved_us in per_rate.items():
            total += Fraction(saved_us, SCALE * SECONDS_PER_HOUR) * self.changes[index][1]
        return total

    def in_force(self, start_s: float, end_s: float) -> tuple[tuple[int, Fraction], ...]:
        """The (since day, rate) entries in force at some moment of [start, end)."""
        first, last = epoch_day(start_s), epoch_day(end_s) - (end_s % SECONDS_PER_DAY == 0)
        changes = self.changes
        return tuple(
            change
            for j, change in enumerate(changes)
            if (j == 0 or change[0] <= last)
            and (j + 1 == len(changes) or changes[j + 1][0] > first)
        )
