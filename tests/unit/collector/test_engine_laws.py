"""Aggregation laws: event order, duplicates and partition splits never change results."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.engine.engine import Engine
from schemas.envelope import OutcomeEvent
from schemas.events import AvailabilityObserved, EventType
from tests.support.engines import feed, new_engine, verdicts
from tests.support.events import NOW, availability, make_event

projects = st.sampled_from(["alpha", "beta", "gamma-1"])
money = st.floats(min_value=0.01, max_value=1e6, allow_nan=False).map(lambda x: round(x, 6))
seconds = st.floats(min_value=0, max_value=1e5, allow_nan=False).map(lambda x: round(x, 3))
times = st.integers(min_value=-20 * 24 * 3600, max_value=600).map(
    lambda offset: NOW + timedelta(seconds=offset)
)


@st.composite
def events(draw: st.DrawFn) -> OutcomeEvent:
    kind = draw(st.sampled_from(list(EventType)))
    common: dict[str, Any] = {
        "project": draw(projects),
        "time": draw(times),
        "event_id": f"id-{draw(st.integers(0, 10_000))}",
        "source": draw(st.sampled_from(["a", "b"])),
    }
    if kind is EventType.RUN_FINISHED:
        return make_event(
            kind,
            automation=draw(st.sampled_from(["x", "y"])),
            outcome=draw(st.sampled_from(["succeeded", "failed", "cancelled"])),
            manual_duration_s=draw(seconds),
            human_effort_s=draw(seconds),
            cost=draw(money),
            **common,
        )
    if kind is EventType.COST_INCURRED:
        return make_event(kind, amount=draw(money), category="compute", **common)
    if kind is EventType.SAVINGS_REALIZED:
        return make_event(kind, amount=draw(money), **common)
    window = timedelta(seconds=draw(st.integers(1, 3600)))
    down = draw(st.floats(0, 1)) * window.total_seconds()
    end = common.pop("time")
    return availability(end, window, downtime_s=round(down, 3), **common)


def distinct_events(batch: list[OutcomeEvent]) -> list[OutcomeEvent]:
    """One event per (source, id); and one per availability window: a window re-sent with
    the same service, start and end replaces the earlier one (docs/REFERENCE.md#formulas), so two with
    different downtime are not interchangeable, whatever their ids."""
    by_id = {(e.source, e.id): e for e in batch}.values()
    windows: set[tuple[Any, ...]] = set()
    kept = []
    for event in by_id:
        data = event.data
        if isinstance(data, AvailabilityObserved):
            key = (data.project, data.service, data.window_start, data.window_end)
            if key in windows:
                continue
            windows.add(key)
        kept.append(event)
    return kept


def results(engine: Engine) -> tuple[Any, ...]:
    snap = engine.snapshot()
    return snap.projects, snap.health.events, snap.health.rejected


@settings(max_examples=150, deadline=None)
@given(st.lists(events(), max_size=40), st.randoms(use_true_random=False))
def test_order_and_duplicates_do_not_matter(batch: list[OutcomeEvent], rng: Any) -> None:
    # A copy with the same (source, id) must carry the same content to be a duplicate.
    distinct = distinct_events(batch)
    reference = new_engine()
    reference_results = feed(reference, distinct)
    copies = [rng.choice(distinct) for _ in range(len(distinct) // 2)] if distinct else []
    noisy = distinct + copies
    rng.shuffle(noisy)
    shuffled = new_engine()
    shuffled_verdicts = verdicts(feed(shuffled, noisy))

    assert results(shuffled)[0] == results(reference)[0]
    accepted = {
        (e.source, e.id)
        for e, r in zip(distinct, reference_results, strict=True)
        if r == "accepted"
    }
    expected = verdicts(reference_results)
    for copy in copies:
        again = "duplicate" if (copy.source, copy.id) in accepted else None
        key = again or reference_results[distinct.index(copy)]
        expected[key] = expected.get(key, 0) + 1
    assert shuffled_verdicts == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(events(), max_size=40))
def test_splitting_projects_across_partitions_does_not_matter(batch: list[OutcomeEvent]) -> None:
    distinct = distinct_events(batch)
    whole = new_engine()
    feed(whole, distinct)
    parts = {name: new_engine() for name in ("alpha", "beta", "gamma-1")}
    for event in distinct:
        feed(parts[event.project], [event])
    combined = sorted(
        (p for engine in parts.values() for p in engine.snapshot().projects), key=lambda p: p.name
    )
    assert tuple(combined) == whole.snapshot().projects
