"""`count_run` (the engine's per-run hot path) against its rules written out once more here,
run by run: outcomes, time saved per day, effort, baselines, cost, first and last event."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import get_type_hints

from hypothesis import given
from hypothesis import strategies as st

import collector.engine
from collector.engine.aggregates import LifetimeCounters, PeriodTotals, run_micros
from collector.engine.fields import fields_of, run_fields
from collector.engine.rates import epoch_day
from collector.engine.run_counts import count_run
from schemas.events import DATA_MODELS, RunFinished

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
def test_count_run_counts_each_rule(runs: list[tuple[RunFinished, float]]) -> None:
    counters, totals = LifetimeCounters(), PeriodTotals()
    saved: Counter[int] = Counter()
    cost = effort = manual = with_effort = 0
    baselines: Counter[str] = Counter()
    for run, event_s in runs:
        day, manual_us = count_run(
            counters, totals, run.automation, run_fields(fields_of(run)), event_s
        )
        effort_us, run_manual_us, cost_n = run_micros(run)
        assert (day, manual_us) == (epoch_day(event_s), run_manual_us)
        succeeded = run.outcome == "succeeded"
        saved[day] += (run_manual_us if succeeded else 0) - effort_us
        cost, effort = cost + cost_n, effort + effort_us
        manual += run_manual_us if succeeded else 0
        with_effort += effort_us > 0
        baselines[run.automation] += run_manual_us if succeeded else 0
    assert counters.runs == Counter((run.automation, run.outcome) for run, _ in runs)
    assert totals.runs == Counter(run.outcome for run, _ in runs)
    nonzero = {day: us for day, us in saved.items() if us}
    assert {day: us for day, us in counters.saved_by_day_us.items() if us} == nonzero
    assert counters.saved_by_day_us == totals.saved_by_day_us
    assert (counters.human_effort_us, totals.human_effort_us) == (effort, effort)
    assert (counters.manual_avoided_us, totals.manual_succeeded_us) == (manual, manual)
    assert totals.runs_with_effort == with_effort
    assert {a: us for a, us in totals.baselines.items() if us} == {
        a: us for a, us in baselines.items() if us
    }
    assert totals.succeeded == Counter(r.automation for r, _ in runs if r.outcome == "succeeded")
    assert counters.cost_n["run"] == totals.cost_n["run"] == cost
    times = [event_s for _, event_s in runs]
    expected_span = (min(times), max(times)) if times else (None, None)
    assert (counters.first_event_s, counters.last_event_s) == expected_span


def _as_written() -> ModuleType:
    """`collector.engine.fields` run from its source: compiled, its typed dicts keep no
    annotations to compare."""
    path = Path(collector.engine.__file__).with_name("fields.py")
    spec = importlib.util.spec_from_file_location("fields_as_written", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fields_read_from_a_models_dict_are_the_models() -> None:
    """`RunFields` is `RunFinished`'s fields with their types and `fields_of` gives their
    values; each of `DataFields` is a field of the models that have it, of the same type."""
    written = _as_written()
    hints = get_type_hints(RunFinished)
    run_hints = get_type_hints(written.RunFields, vars(written))
    assert run_hints == {name: hints[name] for name in RunFinished.model_fields}
    assert list(run_hints) == list(RunFinished.model_fields)
    run = RunFinished(project="p", automation="a", outcome="failed", manual_duration_s=60,
                      human_effort_s=5, cost=1, currency="EUR")  # fmt: skip
    assert fields_of(run) == {name: getattr(run, name) for name in RunFinished.model_fields}
    for name, annotation in get_type_hints(written.DataFields, vars(written)).items():
        having = [m for m in DATA_MODELS.values() if name in m.model_fields]
        assert having, name
        for model in having:
            assert get_type_hints(model)[name] == annotation, (model, name)
