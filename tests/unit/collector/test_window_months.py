"""An availability window's microseconds and months (`windows.epoch_us`, `windows.pieces`)
against plain datetime arithmetic, for windows in any order: the month used last is kept
for the next window, so a window of another month, one across a boundary and one back
must each still find its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, TypeAdapter

from collector.engine.periods import Period, PeriodKind, period_containing
from collector.engine.windows import epoch_us, pieces

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICRO = timedelta(microseconds=1)
HOUR_US = 3_600_000_000
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=9, minutes=45))]
)
moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 1), timezones=zones
)
month_starts = st.builds(
    lambda year, month, zone: datetime(year, month, 1, tzinfo=UTC).astimezone(zone),
    st.integers(1971, 2199), st.integers(1, 12), zones,
)  # fmt: skip
near_boundaries = st.builds(
    lambda start, shift: start + timedelta(microseconds=shift),
    month_starts, st.integers(-2 * HOUR_US, 2 * HOUR_US),
)  # fmt: skip
windows = st.tuples(moments | near_boundaries, st.integers(1, HOUR_US), st.integers(0, HOUR_US))


def reference(start_us: int, end_us: int, down_us: int) -> list[tuple[Period, int, int, int]]:
    first = period_containing(EPOCH + start_us * MICRO, PeriodKind.MONTH)
    boundary = (first.end - EPOCH) // MICRO
    if end_us <= boundary:
        return [(first, start_us, end_us, down_us)]
    second = period_containing(first.end, PeriodKind.MONTH)
    early = down_us * (boundary - start_us) // (end_us - start_us)
    return [(first, start_us, boundary, early), (second, boundary, end_us, down_us - early)]


@given(moments | near_boundaries)
@settings(max_examples=1000)
def test_microseconds_since_the_epoch_are_the_timedeltas(moment: datetime) -> None:
    assert epoch_us(moment) == (moment - EPOCH) // MICRO


def test_microseconds_of_the_times_pydantic_reads() -> None:
    read = TypeAdapter(AwareDatetime).validate_json
    for text in ('"2026-11-30T23:59:59.999999-01:00"', '"1999-12-31T23:00:00.5+05:45"'):
        moment = read(text)
        assert epoch_us(moment) == (moment - EPOCH) // MICRO


@given(st.lists(windows, min_size=1, max_size=12))
@settings(max_examples=400)
def test_each_windows_pieces_are_the_months_it_touches_in_any_order(
    drawn: list[tuple[datetime, int, int]],
) -> None:
    for start, length_us, drawn_down_us in drawn:
        start_us = (start - EPOCH) // MICRO
        end_us, down_us = start_us + length_us, min(drawn_down_us, length_us)
        assert pieces(start_us, end_us, down_us) == reference(start_us, end_us, down_us)
