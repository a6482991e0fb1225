"""Readiness before judgement: each check of a declared project, said in words, through
the engine; the portfolio's ready ratio; what `outcomes targets check` warns about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.declarations.advice import advice
from collector.declarations.loader import declaration_files, load_file
from collector.declarations.registry import DeclarationRegistry
from collector.engine.engine import Engine
from collector.engine.readiness import READINESS_CHECKS
from collector.state.sqlite import SqliteStore
from outcomes.cli import main
from schemas.events import EventType
from tests.support.engines import FixedClock, feed, new_engine
from tests.support.events import make_event
from tests.unit.collector.declarations.test_decisions import DECISION
from tests.unit.collector.declarations.test_declarations import GOOD, write
from tests.unit.collector.test_engine import project

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
# GOOD: a pilot since 2026-03-01 with owner, sponsor, a rate and uptime, savings, time
# saved, roi and success rate objectives; DECISION: extend it, to be reviewed by 2026-12-31
BARE = """\
apiVersion: outcomes/v1
kind: Project
metadata: {name: bare-bot}
spec:
  stage: production
  objectives: {timeSavedHours: 10}
"""


def engine_over(directory: Path, now: datetime = NOW) -> Engine:
    catalog = DeclarationRegistry(directory).reload().catalog
    return Engine(new_engine().settings, FixedClock(now), catalog)


def checks(engine: Engine, name: str) -> dict[str, str | None]:
    """check -> None when it passed, else why not."""
    found = project(engine, name).readiness
    assert tuple(check for check, _, _ in found) == READINESS_CHECKS
    return {check: None if passed else reason for check, passed, reason in found}


def everything(day: datetime) -> list:  # type: ignore[type-arg]
    """An event of every input of GOOD's objectives on `day`."""
    window = {"window_start": (day - timedelta(hours=1)).isoformat(), "window_end": day.isoformat()}
    return [
        make_event(EventType.RUN_FINISHED, time=day, event_id=f"run-{day:%j}"),
        make_event(EventType.SAVINGS_REALIZED, time=day, event_id=f"save-{day:%j}"),
        make_event(EventType.COST_INCURRED, time=day, event_id=f"cost-{day:%j}"),
        make_event(EventType.AVAILABILITY_OBSERVED, time=day, event_id=f"up-{day:%j}", **window),
    ]


def test_a_declared_project_reporting_every_input_is_ready(tmp_path: Path) -> None:
    write(tmp_path, "itsm.yaml", GOOD)
    write(tmp_path, "decisions.yaml", DECISION)
    engine = engine_over(tmp_path)
    feed(engine, everything(NOW - timedelta(days=2)))
    assert checks(engine, "ticket-triage") == dict.fromkeys(READINESS_CHECKS)
    assert project(engine, "ticket-triage").ready
    assert engine.snapshot().portfolio.ready_ratio == 1.0


def test_each_missing_thing_is_said_in_words(tmp_path: Path) -> None:
    write(tmp_path, "itsm.yaml", GOOD)  # no decision: a pilot without a review date
    write(tmp_path, "bare.yaml", BARE)  # no owner, sponsor, rate or runs
    engine = engine_over(tmp_path)
    old = NOW - timedelta(days=9)  # older than the 7-day window
    feed(engine, [*everything(old), make_event(EventType.SAVINGS_REALIZED, time=NOW)])
    assert checks(engine, "ticket-triage") == {
        "owner": None,
        "sponsor": None,
        "objectives": None,
        "baseline": None,
        "data": checks_data_text(),
        "scope": "a pilot without a decision to review it by a date",
    }
    assert checks(engine, "bare-bot") == {
        "owner": "no owner declared",
        "sponsor": "no sponsor declared",
        "objectives": None,
        "baseline": "time saved valued at the default rate; no run reported the manual time"
        " it replaces (manual_duration_s)",
        "data": "no runs reported in 7 days",
        "scope": None,
    }
    portfolio = engine.snapshot().portfolio
    assert portfolio.ready_ratio == 0.0


def checks_data_text() -> str:
    """GOOD's objectives with only a fresh saving: runs (time saved, success rate), cost
    (roi) and availability windows (uptime) are stale."""
    return "no runs, no cost or runs, no availability windows reported in 7 days"


def test_an_undeclared_project_misses_owner_sponsor_and_objectives() -> None:
    engine = new_engine(NOW)
    feed(engine, [make_event(time=NOW - timedelta(hours=1), event_id="one")])
    found = checks(engine, "ticket-triage")
    assert found["owner"] == "no owner declared"
    assert found["objectives"] == "no measurable objective declared"
    assert found["data"] is None  # an event within the window


def test_readiness_survives_a_restart_of_the_state(tmp_path: Path) -> None:
    """The latest time of each input is kept with the project's counters."""
    write(tmp_path, "itsm.yaml", GOOD)
    write(tmp_path, "decisions.yaml", DECISION)
    engine = engine_over(tmp_path)
    feed(engine, everything(NOW - timedelta(days=1)))
    store = SqliteStore(tmp_path / "state.db")
    store.commit(engine.take_changes(), {}, {})
    restored = engine_over(tmp_path)
    restored.restore(store.load_all())
    assert project(restored, "ticket-triage").ready
    later = engine_over(tmp_path, NOW + timedelta(days=7))  # a week on, nothing new
    later.restore(store.load_all())
    assert checks(later, "ticket-triage")["data"] == (
        "no savings, no runs, no runs or savings, no cost or runs, no availability windows"
        " reported in 7 days"
    )


def test_targets_check_warns_about_what_cannot_become_ready(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "itsm.yaml", GOOD)
    write(tmp_path, "bare.yaml", BARE)
    stray = DECISION.replace("project: ticket-triage", "project: no-such-project")
    write(tmp_path, "decisions.yaml", stray)
    found = [item for file in declaration_files(tmp_path) for item in load_file(file)[0]]
    said = [str(warning).removeprefix(f"{tmp_path}/") for warning in advice(found)]
    assert said == [
        "bare.yaml:1: warning: project bare-bot: no owner: the owner readiness check cannot pass",
        "bare.yaml:1: warning: project bare-bot: no sponsor: the sponsor readiness check cannot"
        " pass",
        "bare.yaml:1: warning: project bare-bot: its targets value time saved but no hourlyRate"
        " is declared: valued at the default rate, the baseline readiness check cannot pass",
        "decisions.yaml:1: warning: decision triage-q3: no Project declares no-such-project, so"
        " it has no effect",
        "itsm.yaml:1: warning: project ticket-triage: a pilot whose decision in force has no"
        " reviewBy (or no Decision at all): the scope readiness check cannot pass",
    ]
    assert main(["targets", "check", str(tmp_path)]) == 0  # warnings, not failures
    out, err = capsys.readouterr()
    assert out.strip().endswith("in 3 files; 5 warnings")
    assert err.count("warning:") == 5
