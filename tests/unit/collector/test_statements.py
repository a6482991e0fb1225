"""Cloud bills as statements: a later version of a statement replaces the earlier one
exactly — each line's month restated, lines that vanished count no more, the lifetime
counters never fall (a fall is a credit) — and the same version again, or an older one
arriving late, changes nothing; across a restart and after its months left memory."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from collector.engine.engine import Engine
from collector.engine.periods import parse_period_key
from collector.engine.settings import EngineSettings
from schemas.binding import to_binary
from schemas.envelope import OutcomeEvent
from schemas.events import CostStatement, EventType
from schemas.snapshot import ProjectSnapshot
from tests.support.engines import FixedClock, feed, sqlite_pipeline
from tests.support.events import NOW, make_event

PROJECT = "ticket-triage"
LATER = FixedClock(NOW + timedelta(days=2))
"""The collector's clock: statements were issued up to then."""
BILL = "AWS/123456789012/2026-11-01"


def _statement(
    version: str, lines: list[tuple[str, str, str]], *, issued: datetime = NOW, **data: Any
) -> OutcomeEvent:
    return make_event(
        EventType.COST_STATEMENT,
        time=issued,
        event_id=f"{data.get('statement', BILL)}-{version}-{data.get('project', PROJECT)}",
        version=version,
        issued_at=issued.isoformat(),
        lines=[{"day": d, "category": c, "amount": a} for d, c, a in lines],
        **data,
    )


def _cost(engine: Engine, key: str, name: str = PROJECT) -> float:
    return engine.period_view(name, parse_period_key(key)).period.cost


def _project(engine: Engine, name: str = PROJECT) -> ProjectSnapshot:
    (project,) = [p for p in engine.snapshot().projects if p.name == name]
    return project


def test_a_statement_counts_each_line_in_its_own_month() -> None:
    engine = Engine(EngineSettings(), LATER)
    lines = [
        ("2026-10-31", "compute", "10.000000001"),
        ("2026-11-01", "compute", "0.000000002"),
        ("2026-11-01", "services", "-2.5"),
    ]
    assert feed(engine, [_statement("aa11aa11", lines)]) == ["accepted"]
    assert _cost(engine, "2026-10") == 10.000000001
    assert _cost(engine, "2026-11") == -2.499999998
    counters = _project(engine).counters
    assert counters.cost == (("compute", 10.000000003),)
    assert counters.credits == (("services", 2.5),)


def test_a_later_version_restates_exactly_and_vanished_lines_count_no_more() -> None:
    engine = Engine(EngineSettings(), LATER)
    first = [
        ("2026-11-02", "compute", "100"),
        ("2026-11-03", "compute", "40"),
        ("2026-11-03", "licence", "7.25"),
    ]
    second = [("2026-11-02", "compute", "130.5"), ("2026-11-03", "compute", "15")]
    later = NOW + timedelta(hours=6)
    feed(engine, [_statement("aa11aa11", first)])
    assert _cost(engine, "2026-11") == 147.25
    assert feed(engine, [_statement("bb22bb22", second, issued=later)]) == ["accepted"]
    assert _cost(engine, "2026-11") == 145.5  # licence gone, compute restated
    project = _project(engine)
    # the counters only grow: +30.5 is cost, -25 and -7.25 are credits; net is the bill
    assert project.counters.cost == (("compute", 170.5), ("licence", 7.25))
    assert project.counters.credits == (("compute", 25.0), ("licence", 7.25))
    assert project.lifetime_cost == 145.5
    ((statement,),) = [project.statements]
    assert (statement.statement, statement.version, statement.cost) == (BILL, "bb22bb22", 145.5)
    assert statement.issued_s == later.timestamp()
    # a statement without lines: the project has no cost in it any longer
    feed(engine, [_statement("cc33cc33", [], issued=later + timedelta(hours=1))])
    assert _cost(engine, "2026-11") == 0.0
    assert _project(engine).lifetime_cost == 0.0


def test_the_same_version_again_or_an_older_one_changes_nothing() -> None:
    engine = Engine(EngineSettings(), LATER)
    newer = _statement("bb22bb22", [("2026-11-02", "compute", "20")])
    older = _statement("aa11aa11", [("2026-11-02", "compute", "5")], issued=NOW - timedelta(1))
    again = newer._replace(id="another-delivery-of-the-same-import")
    assert feed(engine, [newer, newer, again, older]) == [
        "accepted",
        "duplicate",
        "accepted",
        "accepted",
    ]
    assert _cost(engine, "2026-11") == 20.0
    assert _project(engine).statements[0].version == "bb22bb22"


def test_statements_of_different_bills_and_projects_are_apart() -> None:
    engine = Engine(EngineSettings(), LATER)
    october = "AWS/123456789012/2026-10-01"
    feed(
        engine,
        [
            _statement("aa11aa11", [("2026-11-02", "compute", "1")]),
            _statement("aa11aa11", [("2026-10-30", "compute", "2")], statement=october),
            _statement("aa11aa11", [("2026-11-02", "compute", "4")], project="other-app"),
        ],
    )
    feed(engine, [_statement("bb22bb22", [], issued=NOW + timedelta(1))])  # November only
    assert (_cost(engine, "2026-10"), _cost(engine, "2026-11")) == (2.0, 0.0)
    assert _cost(engine, "2026-11", "other-app") == 4.0


def test_restated_after_a_restart_and_after_its_months_left_memory(tmp_path: Path) -> None:
    clock = LATER
    pipeline, source = sqlite_pipeline(tmp_path / "state.db", clock)
    july = "AWS/123456789012/2026-07-01"
    first = [("2026-07-10", "compute", "50"), ("2026-07-11", "other", "3.333333333")]
    source.add([to_binary(_statement("aa11aa11", first, statement=july))])
    pipeline.process(source.poll(0))
    pipeline.engine.forget_closed()
    assert "2026-07" not in pipeline.engine._projects[PROJECT].months
    restarted, source = sqlite_pipeline(tmp_path / "state.db", clock)
    second = [("2026-07-10", "compute", "60")]
    late = _statement("bb22bb22", second, statement=july, issued=NOW + timedelta(hours=1))
    source.add([to_binary(late)])
    restarted.process(source.poll(0))
    assert _cost(restarted.engine, "2026-07") == 60.0
    again, _ = sqlite_pipeline(tmp_path / "state.db", clock)
    assert _cost(again.engine, "2026-07") == 60.0
    assert _project(again.engine).statements[0].version == "bb22bb22"


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ([("2026-11-02", "compute", "1"), ("2026-11-02", "compute", "2")], "one line per"),
        ([("2026-11-02", "compute", "1.0000000001")], "amount"),
        ([("2026-11-02", "compute", "1e3")], "amount"),
        ([("2026-11-02", "cloud", "1")], "category"),
    ],
)
def test_a_statement_that_is_not_exact_is_refused(
    lines: list[tuple[str, str, str]], problem: str
) -> None:
    data = {
        "project": PROJECT,
        "statement": BILL,
        "version": "aa11aa11",
        "issued_at": NOW.isoformat(),
        "lines": [{"day": d, "category": c, "amount": a} for d, c, a in lines],
    }
    with pytest.raises(ValidationError, match=problem):
        CostStatement.model_validate(data)
