"""A project's counters and a month's totals read back equal to what was written, through
the JSON the state stores write, and state written before counters keyed by tuples or days
were stored as columns (`[[key…], n]` pairs, flat `[key…, n]` rows, `{"day": µs}` objects)
reads the same."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from collector.engine.aggregates import LifetimeCounters, PeriodTotals
from collector.state.encoding import stored_json
from schemas.events import EventType
from tests.support.engines import feed, new_engine
from tests.support.events import make_event

_NAMES = st.text(min_size=1, max_size=8)
_COUNTS = st.integers(min_value=1, max_value=2**62)
_DAYS = st.dictionaries(st.integers(min_value=19_000, max_value=21_000), _COUNTS, max_size=5)


def _keyed(width: int) -> st.SearchStrategy[dict[tuple[str, ...], int]]:
    return st.dictionaries(st.tuples(*[_NAMES] * width), _COUNTS, max_size=5)


def _counters(
    runs: dict[Any, int],
    tokens: dict[Any, int],
    calls: dict[Any, int],
    cost: dict[Any, int],
    reviews: dict[Any, int],
    days: dict[int, int],
) -> LifetimeCounters:
    return LifetimeCounters(
        runs=Counter(runs),
        manual_avoided_us=sum(days.values()),
        saved_by_day_us=Counter(days),
        first_event_s=1.8e9,
        last_event_s=1.8e9 + 1,
        ai_tokens=Counter(tokens),
        ai_calls=Counter(calls),
        ai_cost_n=Counter(cost),
        ai_unpriced=Counter(calls),
        reviews=Counter(reviews),
    )


def _read_back(raw: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(stored_json(raw))
    return decoded


@given(
    st.builds(_counters, _keyed(2), _keyed(4), _keyed(2), _keyed(3), _keyed(2), _DAYS),
)
def test_counters_read_back_equal_as_written(counters: LifetimeCounters) -> None:
    assert LifetimeCounters.from_json(_read_back(counters.to_json())) == counters


def _example() -> LifetimeCounters:
    return _counters(
        {("classify", "succeeded"): 3, ("classify", "failed"): 1},
        {("classify", "openai", "gpt-4o", "input"): 1200},
        {("openai", "gpt-4o"): 2},
        {("openai", "gpt-4o", "genai-prices"): 4_500_000},
        {("classify", "accepted"): 2},
        {20_400: 900_000_000},
    )


def test_counters_written_as_flat_rows_read_the_same() -> None:
    counters = _example()
    old = _read_back(counters.to_json())
    old["runs"] = [["classify", "succeeded", 3], ["classify", "failed", 1]]
    old["ai_tokens"] = [["classify", "openai", "gpt-4o", "input", 1200]]
    old["ai_calls"] = old["ai_unpriced"] = [["openai", "gpt-4o", 2]]
    old["ai_cost_n"] = [["openai", "gpt-4o", "genai-prices", 4_500_000]]
    old["reviews"] = [["classify", "accepted", 2]]
    old["saved_by_day_us"] = {"20400": 900_000_000}
    assert LifetimeCounters.from_json(old) == counters


def test_counters_written_as_pairs_read_the_same() -> None:
    counters = _example()
    old = _read_back(counters.to_json())
    old["runs"] = [[["classify", "succeeded"], 3], [["classify", "failed"], 1]]
    old["ai_tokens"] = [[["classify", "openai", "gpt-4o", "input"], 1200]]
    old["ai_calls"] = old["ai_unpriced"] = [[["openai", "gpt-4o"], 2]]
    old["ai_cost_n"] = [[["openai", "gpt-4o", "genai-prices"], 4_500_000]]
    old["reviews"] = [[["classify", "accepted"], 2]]
    old["saved_by_day_us"] = [[20_400, 900_000_000]]
    assert LifetimeCounters.from_json(old) == counters


def test_counters_keyed_by_tuples_are_written_as_columns() -> None:
    written = _read_back(_example().to_json())
    assert written["runs"] == {
        "keys": [["classify", "succeeded"], ["classify", "failed"]],
        "n": [3, 1],
    }
    assert written["saved_by_day_us"] == {"keys": [20_400], "n": [900_000_000]}
    assert written["ai_cost_n"] == {
        "keys": [["openai", "gpt-4o", "genai-prices"]],
        "n": [4_500_000],
    }


def test_counts_beyond_64_bits_are_written_exactly() -> None:
    """orjson refuses them; the fallback encoder writes the live counters just as well."""
    counters = _example()
    counters.cost_n["run"] = 2**70
    counters.runs[("classify", "succeeded")] = 2**65
    read = LifetimeCounters.from_json(_read_back(counters.to_json()))
    assert read == counters
    assert read.cost_n["run"] == 2**70


@given(_DAYS, st.dictionaries(_NAMES, _COUNTS, max_size=3))
def test_month_totals_read_back_equal_as_written(
    days: dict[int, int], runs: dict[str, int]
) -> None:
    totals = PeriodTotals(
        runs=Counter(runs), manual_succeeded_us=sum(days.values()), saved_by_day_us=Counter(days)
    )
    raw = _read_back(totals.to_json())
    assert PeriodTotals.from_json(raw, 20_000) == totals
    raw["saved_by_day_us"] = {str(day): us for day, us in days.items()}  # before pairs
    assert PeriodTotals.from_json(raw, 20_000) == totals
    raw["saved_by_day_us"] = [[day, us] for day, us in days.items()]  # before columns
    assert PeriodTotals.from_json(raw, 20_000) == totals


def test_every_json_column_of_a_batch_is_written_by_orjson_itself() -> None:
    """The fallback encoder takes ten times as long: a batch's rows (every event type,
    a review and its run included) must never need it (a named tuple would)."""
    engine = new_engine()
    events = [
        make_event(event_id="e-run"),
        *(make_event(kind) for kind in EventType if kind is not EventType.RUN_FINISHED),
    ]
    assert set(feed(engine, events)) == {"accepted"}
    changes = engine.take_changes()
    columns: list[Any] = [
        *(row.counters for row in changes.projects),
        *(row.totals for row in changes.periods),
        *(row.data for row in changes.incidents),
        *(data for _, data in changes.health),
        *(row.runs for row in changes.runs),
        *(row.data for row in changes.reviews),
        *(row.data for row in changes.statements),
    ]
    assert changes.runs and changes.reviews and changes.statements and changes.incidents
    for column in columns:
        assert json.loads(orjson.dumps(column)) == json.loads(stored_json(column))
