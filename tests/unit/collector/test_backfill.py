"""History import (`outcomesbackfill`): counted in its closed period whatever its age, the
period restated and marked, nothing counted twice however late the second import comes,
and a month no longer in memory completed from the state store, never overwritten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from collector.engine.engine import Engine
from collector.engine.periods import PeriodKind, parse_period_key
from collector.engine.settings import EngineSettings
from collector.engine.timing import timing_problem
from collector.pipeline import Pipeline, PipelineSettings
from collector.state.sqlite import SqliteStore
from schemas.binding import (
    from_record,
    general_from_record,
    to_binary,
    to_structured,
    to_structured_dict,
)
from schemas.envelope import EventError, OutcomeEvent, Reason
from schemas.events import EventType
from tests.support.doubles import MemoryDeadLetters, MemorySource
from tests.support.engines import FixedClock, feed
from tests.support.events import NOW, make_event

AUGUST = datetime(2026, 8, 10, 9, 0, tzinfo=UTC)  # three months before NOW (2026-11-15)


def history(**data: object) -> OutcomeEvent:
    return make_event(time=AUGUST, **data)._replace(backfill=True)  # type: ignore[arg-type]


def test_the_extension_travels_in_both_modes_and_is_read_by_the_general_path() -> None:
    event = history(event_id="h-1")
    binary = to_binary(event)
    assert ("ce_outcomesbackfill", b"true") in binary.headers
    assert to_structured_dict(event)["outcomesbackfill"] is True
    for record in (binary, to_structured(event)):
        assert from_record(record.key, record.headers, record.value) == event
    live = to_binary(event._replace(backfill=False))
    assert all(name != "ce_outcomesbackfill" for name, _ in live.headers)
    said_false = [*live.headers, ("ce_outcomesbackfill", b"false")]
    assert from_record(live.key, said_false, live.value).backfill is False


def test_a_backfill_value_that_is_not_a_boolean_is_invalid() -> None:
    record = to_binary(history())
    headers = [(n, b"maybe" if n == "ce_outcomesbackfill" else v) for n, v in record.headers]
    try:
        general_from_record(record.key, headers, record.value)
    except EventError as error:
        assert error.reason is Reason.INVALID
        assert "outcomesbackfill" in error.detail
    else:
        raise AssertionError("accepted a backfill flag of 'maybe'")


def test_history_is_counted_in_its_closed_period_restated_and_marked() -> None:
    clock = FixedClock(NOW)
    engine = Engine(EngineSettings(), clock)
    live_copy = make_event(time=AUGUST, event_id="late")
    assert feed(engine, [live_copy]) == ["too_late"]
    results = feed(engine, [history(event_id="h-1"), history(event_id="h-2", cost=1.25)])
    assert results == ["accepted", "accepted"]
    august = engine.period_view("ticket-triage", parse_period_key("2026-08")).period
    assert dict(august.runs)["succeeded"] == 2
    assert august.cost == 1.3
    assert (august.restated, august.backfilled) == (True, 2)
    # the same history again, now or a year later: nothing counted twice
    assert feed(engine, [history(event_id="h-1")]) == ["duplicate"]
    clock.now = NOW + timedelta(days=400)
    assert feed(engine, [history(event_id="h-2", cost=1.25)]) == ["duplicate"]
    assert engine.period_view("ticket-triage", parse_period_key("2026-08")).period.cost == 1.3


def test_history_in_the_future_is_still_refused() -> None:
    engine = Engine(EngineSettings(), FixedClock(NOW))
    ahead = make_event(time=NOW + timedelta(hours=1))._replace(backfill=True)
    assert feed(engine, [ahead]) == ["future"]
    assert timing_problem(ahead, PeriodKind.MONTH, NOW, timedelta(days=7)) is not None
    assert timing_problem(history(), PeriodKind.MONTH, NOW, timedelta(days=7)) is None
    late = timing_problem(history()._replace(backfill=False), PeriodKind.QUARTER, NOW, timedelta(7))
    assert late is not None and late[0] is Reason.TOO_LATE


def _pipeline(path: Path, clock: FixedClock) -> tuple[Pipeline, MemorySource]:
    source = MemorySource()
    store = SqliteStore(path)
    pipeline = Pipeline(
        Engine(EngineSettings(), clock, archive=store.load_period), store, MemoryDeadLetters(),
        publish=lambda snapshot: None, settings=PipelineSettings(owner="a"),
    )  # fmt: skip
    pipeline.source = source
    pipeline.assign("events", [0])
    return pipeline, source


def test_a_month_no_longer_in_memory_is_completed_from_the_store(tmp_path: Path) -> None:
    """August was counted live, then forgotten in memory (it can no longer change); a
    history import for August adds to the stored month instead of replacing it."""
    clock = FixedClock(AUGUST + timedelta(days=1))
    pipeline, source = _pipeline(tmp_path / "state.db", clock)
    source.add([to_binary(make_event(time=AUGUST, event_id=f"live-{i}", cost=2.0)) for i in (1, 2)])
    pipeline.process(source.poll(0))
    clock.now = NOW + timedelta(days=60)  # August ended longer ago than any period + grace
    pipeline.engine.forget_closed()
    assert "2026-08" not in pipeline.engine._projects["ticket-triage"].months
    source.add([to_binary(history(event_id="h-1", cost=0.5))])
    pipeline.process(source.poll(0))
    restarted, _ = _pipeline(tmp_path / "state.db", clock)
    august = restarted.engine.period_view("ticket-triage", parse_period_key("2026-08")).period
    assert dict(august.runs)["succeeded"] == 3
    assert august.cost == 4.5
    assert august.backfilled == 1


def test_history_windows_and_incidents_land_in_their_months() -> None:
    engine = Engine(EngineSettings(), FixedClock(NOW))
    end = datetime(2026, 9, 1, 0, 30, tzinfo=UTC)  # a window across the 1 September start
    window = make_event(
        EventType.AVAILABILITY_OBSERVED, time=end, event_id="w",
        window_start=(end - timedelta(hours=1)).isoformat(), window_end=end.isoformat(),
        downtime_s=60.0,
    )._replace(backfill=True)  # fmt: skip
    assert feed(engine, [window]) == ["accepted"]
    for key, down in (("2026-08", 30.0), ("2026-09", 30.0)):
        period = engine.period_view("ticket-triage", parse_period_key(key)).period
        assert (period.observed_s, period.backfilled) == (1800.0, 1)
        assert dict((s, d) for s, _, d in period.services)["servicedesk-api"] == down
