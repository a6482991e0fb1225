"""The last closed periods on every snapshot (the boards' month over month): the report's
figures, none before the project was known, restated by late events and history imports,
kept after their months leave memory, a quarter restated whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from collector.declarations.registry import DeclarationRegistry
from collector.engine.engine import Engine
from collector.engine.periods import parse_period_key
from collector.engine.settings import EngineSettings
from schemas.binding import to_binary
from schemas.envelope import OutcomeEvent
from schemas.snapshot import ClosedPeriod
from tests.support.engines import FixedClock, feed, sqlite_pipeline
from tests.support.events import NOW, make_event

PROJECT = "ticket-triage"


def _history(month: int, year: int = 2026, **data: object) -> OutcomeEvent:
    moment = datetime(year, month, 10, 9, tzinfo=UTC)
    return make_event(time=moment, **data)._replace(backfill=True)  # type: ignore[arg-type]


def _closed(engine: Engine, name: str = PROJECT) -> dict[str, ClosedPeriod]:
    (project,) = [p for p in engine.snapshot().projects if p.name == name]
    return {closed.key: closed for closed in project.history}


def _declare(folder: Path, period: str) -> DeclarationRegistry:
    (folder / "p.yaml").write_text(
        f"apiVersion: outcomes/v1\nkind: Project\nmetadata: {{name: {PROJECT}}}\n"
        f"spec: {{owner: o, period: {period}, objectives: {{savings: 10}}}}\n"
    )
    return DeclarationRegistry(folder)


def _agrees_with_the_report(engine: Engine, closed: ClosedPeriod) -> None:
    view = engine.period_view(PROJECT, parse_period_key(closed.key))
    period = view.period
    got = (closed.value, closed.cost, closed.time_saved_s, closed.roi, closed.uptime)
    assert got == (period.value, period.cost, period.time_saved_s, period.roi, period.uptime)


def test_each_closed_month_shows_the_report_figures_and_none_before_the_project() -> None:
    engine = Engine(EngineSettings(), FixedClock(NOW))
    events = [_history(m, event_id=f"h-{m}", cost=0.25 * m) for m in (6, 7, 9)]
    assert feed(engine, events) == ["accepted"] * 3
    closed = _closed(engine)
    # known from its first event (June): nothing judged before; August (no events) is observed
    assert list(closed) == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert {c.kind for c in closed.values()} == {"month"}
    for entry in closed.values():
        _agrees_with_the_report(engine, entry)
    assert closed["2026-07"].cost == 1.75 and closed["2026-08"].cost == 0.0
    assert closed["2026-06"].status == "unscoped"  # its own kind: a status, undeclared here


def test_at_most_the_last_twelve_months() -> None:
    engine = Engine(EngineSettings(), FixedClock(NOW))
    feed(engine, [_history(m, 2025, event_id=f"old-{m}") for m in range(1, 13)])
    assert list(_closed(engine)) == [f"2025-{m:02d}" for m in (11, 12)] + [
        f"2026-{m:02d}" for m in range(1, 11)
    ]


def test_a_late_event_restates_its_closed_month() -> None:
    clock = FixedClock(datetime(2026, 12, 3, tzinfo=UTC))  # November is in its grace window
    engine = Engine(EngineSettings(), clock)
    feed(engine, [make_event(time=datetime(2026, 11, 20, tzinfo=UTC), cost=2.0)])
    assert _closed(engine)["2026-11"].cost == 2.0
    late = make_event(time=datetime(2026, 11, 30, 23, tzinfo=UTC), cost=3.0)
    assert feed(engine, [late]) == ["accepted"]
    november = _closed(engine)["2026-11"]
    assert november.cost == 5.0
    _agrees_with_the_report(engine, november)


def test_a_quarterly_project_has_months_and_quarters_its_status_on_quarters(
    tmp_path: Path,
) -> None:
    engine = Engine(
        EngineSettings(), FixedClock(NOW), _declare(tmp_path, "quarter").reload().catalog
    )
    feed(engine, [_history(m, event_id=f"q-{m}", cost=1.0) for m in (7, 8, 9)])
    closed = _closed(engine)
    assert [k for k, c in closed.items() if c.kind == "quarter"] == ["2026-Q3"]
    assert [k for k, c in closed.items() if c.kind == "month"] == [
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
    ]
    assert closed["2026-Q3"].cost == 3.0 and closed["2026-Q3"].status == "off_target"
    assert {c.status for c in closed.values() if c.kind == "month"} == {None}
    view = engine.period_view(PROJECT, parse_period_key("2026-Q3"))
    assert (closed["2026-Q3"].value, view.status) == (view.period.value, "off_target")


def test_figures_outlive_their_months_and_history_restates_the_whole_quarter(
    tmp_path: Path,
) -> None:
    """Q2 counted live; months far behind leave memory (the quarter's figures stay); a
    history import into May brings April and June back, so Q2 is restated whole."""
    registry = _declare(tmp_path, "quarter")
    clock = FixedClock(datetime(2026, 4, 1, tzinfo=UTC))
    pipeline, source = sqlite_pipeline(tmp_path / "state.db", clock, registry.reload().catalog)
    for month in (4, 5, 6):
        clock.now = datetime(2026, month, 10, 10, tzinfo=UTC)
        event = make_event(time=clock.now - timedelta(hours=1), event_id=f"live-{month}", cost=2.0)
        source.add([to_binary(event)])
        pipeline.process(source.poll(0))
    clock.now = NOW
    engine = pipeline.engine
    assert _closed(engine)["2026-Q2"].cost == 6.0
    engine.forget_closed()
    assert not {"2026-04", "2026-05", "2026-06"} & set(engine._projects[PROJECT].months)
    feed(engine, [make_event(time=NOW - timedelta(hours=1), event_id="now")])  # a view recompute
    kept = _closed(engine)
    assert (kept["2026-Q2"].cost, kept["2026-05"].cost) == (6.0, 2.0)
    source.add([to_binary(_history(5, event_id="h-may", cost=0.5))])
    pipeline.process(source.poll(0))
    restated = _closed(engine)
    assert (restated["2026-Q2"].cost, restated["2026-05"].cost) == (6.5, 2.5)
    restarted, _ = sqlite_pipeline(tmp_path / "state.db", clock, registry.reload().catalog)
    fresh = _closed(restarted.engine)
    assert fresh["2026-Q2"] == restated["2026-Q2"] and fresh["2026-05"] == restated["2026-05"]
