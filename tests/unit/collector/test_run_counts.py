"""`count_run` (the engine's per-run hot path) counts exactly what `LifetimeCounters.add_run`
and `PeriodTotals.add_run` count, run by run."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from collector.engine.aggregates import LifetimeCounters, PeriodTotals, run_micros
from collector.engine.rates import epoch_day
from collector.engine.run_counts import count_run
from schemas.events import RunFinished

_SECONDS = st.one_of(
    st.just(0.0), st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
)
_RUNS = st.builds(
    lambda automation, outcome, manual, effort, cost: RunFinished(
        project="p", automation=automation, outcome=outcome, duration_s=1.0,
        manual_duration_s=manual, human_effort_s=effort, cost=cost,
    ),
    st.sampled_from(["classify", "route", "other"]),
    st.sampled_from(["succeeded", "failed", "cancelled"]),
    _SECONDS,
    _SECONDS,
    st.one_of(st.just(0.0), st.floats(min_value=0, max_value=1e4, allow_nan=False)),
)  # fmt: skip
_TIMES = st.floats(min_value=1.7e9, max_value=1.9e9, allow_nan=False)


@given(st.lists(st.tuples(_RUNS, _TIMES), max_size=30))
def test_count_run_agrees_with_both_add_runs(runs: list[tuple[RunFinished, float]]) -> None:
    fused, fused_totals = LifetimeCounters(), PeriodTotals()
    apart, apart_totals = LifetimeCounters(), PeriodTotals()
    for run, event_s in runs:
        day, manual_us = count_run(fused, fused_totals, run.automation, run, event_s)
        micros = run_micros(run)
        assert (day, manual_us) == (epoch_day(event_s), micros[1])
        apart.add_run(run.automation, run.outcome, micros, event_s, day)
        apart_totals.add_run(run.outcome, micros, day, run.automation)
    assert fused == apart
    assert fused_totals == apart_totals
    assert fused.to_json() == apart.to_json()
