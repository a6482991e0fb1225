"""Incidents paired in the engine, and uptime from them (docs/REFERENCE.md#formulas, incidents basis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collector.declarations.registry import DeclarationRegistry
from collector.engine.engine import Engine
from collector.engine.periods import Period, PeriodKind, period_containing
from collector.state.sqlite import SqliteStore
from schemas.envelope import EventError, OutcomeEvent, parse_event
from schemas.events import EventType
from schemas.snapshot import ProjectSnapshot
from tests.support.engines import FixedClock, feed, new_engine
from tests.support.events import make_event

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
START = datetime(2026, 11, 1, tzinfo=UTC)
DECLARED = """\
apiVersion: outcomes/v1
kind: Project
metadata: {name: ticket-triage}
spec:
  owner: o
  stageSince: 2026-10-01
  services: [servicedesk-api, portal]
  uptimeFrom: incidents
  objectives: {uptime: 0.99}
"""


def opened(
    at: datetime, incident: str = "INC1", service: str = "servicedesk-api", **extra: Any
) -> OutcomeEvent:
    return make_event(
        EventType.INCIDENT_OPENED, time=at, incident=incident, service=service, **extra
    )


def resolved(
    at: datetime, incident: str = "INC1", service: str = "servicedesk-api", **extra: Any
) -> OutcomeEvent:
    data: dict[str, Any] = {"started_at": None, **extra}
    return make_event(
        EventType.INCIDENT_RESOLVED, time=at, incident=incident, service=service, **data
    )


def engine_for(
    tmp_path: Path, text: str = DECLARED, now: datetime = NOW
) -> tuple[Engine, FixedClock]:
    (tmp_path / "p.yaml").write_text(text)
    clock = FixedClock(now)
    return Engine(
        new_engine().settings, clock, DeclarationRegistry(tmp_path).reload().catalog
    ), clock


def project(engine: Engine) -> ProjectSnapshot:
    return next(p for p in engine.snapshot().projects if p.name == "ticket-triage")


def elapsed_s(now: datetime) -> float:
    return (now - START).total_seconds()


def test_an_open_incident_is_downtime_up_to_now(tmp_path: Path) -> None:
    engine, clock = engine_for(tmp_path)
    feed(engine, [opened(NOW - timedelta(hours=2))])
    snap = project(engine)
    assert snap.incidents == (("servicedesk-api", 1, 0, 0),)
    observed = 2 * elapsed_s(NOW)  # two declared services, each observed since the month began
    assert snap.period.uptime == 1 - 7200 / observed
    clock.now = NOW + timedelta(hours=1)  # still open: uptime keeps falling
    engine.views.stale.add("ticket-triage")
    assert project(engine).period.uptime == 1 - 3 * 3600 / (2 * elapsed_s(clock.now))


def test_pairs_in_either_order_and_repeats_collapse(tmp_path: Path) -> None:
    engine, _ = engine_for(tmp_path)
    hour = timedelta(hours=1)
    results = feed(engine, [
        resolved(NOW - 2 * hour, incident="A"),             # start unknown: pending
        opened(NOW - 3 * hour, incident="B"),
        opened(NOW - 3 * hour, incident="B"),                # a repeat notification
        resolved(NOW - 2 * hour, incident="B"),
        resolved(NOW - 2 * hour, incident="B"),              # a redelivery
    ])  # fmt: skip
    assert results == ["accepted"] * 5
    assert project(engine).incidents == (("servicedesk-api", 0, 1, 1),)
    feed(engine, [opened(NOW - 4 * hour, incident="A")])  # the pending one gets its start
    snap = project(engine)
    assert snap.incidents == (("servicedesk-api", 0, 2, 0),)
    # A: 4h..2h and B: 3h..2h overlap: their union is two hours
    assert snap.period.uptime == 1 - 7200 / (2 * elapsed_s(NOW))


def test_a_resolution_may_carry_its_start(tmp_path: Path) -> None:
    engine, _ = engine_for(tmp_path)
    feed(engine, [resolved(NOW, incident="C", started_at=(NOW - timedelta(minutes=30)).isoformat(),
                           resolved_by="automation")])  # fmt: skip
    snap = project(engine)
    assert snap.incidents == (("servicedesk-api", 0, 1, 0),)
    assert snap.period.uptime == 1 - 1800 / (2 * elapsed_s(NOW))


def test_resolved_before_started_is_invalid(tmp_path: Path) -> None:
    engine, _ = engine_for(tmp_path)
    feed(engine, [opened(NOW - timedelta(hours=1))])
    assert feed(engine, [resolved(NOW - timedelta(hours=2))]) == ["invalid"]
    with pytest.raises(EventError, match="resolved before started"):
        parse_event(
            {"specversion": "1.0", "id": "x", "source": "s", "type": "outcomes.incident.resolved",
             "time": "2026-11-15T10:00:00Z"},
            {"project": "p", "service": "s", "incident": "I", "started_at": "2026-11-15T11:00:00Z"},
        )  # fmt: skip
    assert project(engine).incidents == (("servicedesk-api", 1, 0, 0),)


def test_an_incident_across_a_month_boundary_counts_in_both(tmp_path: Path) -> None:
    midnight = datetime(2026, 12, 1, tzinfo=UTC)
    engine, _ = engine_for(tmp_path, now=midnight + timedelta(hours=10))
    feed(engine, [opened(midnight - timedelta(hours=1)), resolved(midnight + timedelta(hours=2))])
    december = project(engine).period
    assert december.uptime == 1 - 7200 / (2 * 10 * 3600)
    november = engine.period_view("ticket-triage", _month(midnight - timedelta(days=1))).period
    assert november.uptime == 1 - 3600 / (2 * 30 * 86400)


def test_observed_since_and_undeclared_services(tmp_path: Path) -> None:
    """Observed time counts from `observedSince`; an undeclared service's incident has its
    series but does not touch uptime."""
    engine, _ = engine_for(
        tmp_path, DECLARED.replace("uptimeFrom", "observedSince: 2026-11-15\n  uptimeFrom")
    )
    feed(
        engine,
        [opened(NOW - timedelta(hours=1)), opened(NOW - timedelta(hours=5), service="batch")],
    )
    snap = project(engine)
    assert snap.incidents == (("batch", 1, 0, 0), ("servicedesk-api", 1, 0, 0))
    assert snap.period.uptime == 1 - 3600 / (2 * 12 * 3600)


def test_incidents_survive_a_restart_through_the_store(tmp_path: Path) -> None:
    engine, _ = engine_for(tmp_path)
    store = SqliteStore(tmp_path / "state.db")
    feed(
        engine, [opened(NOW - timedelta(hours=3)), resolved(NOW - timedelta(hours=1), incident="P")]
    )
    store.commit(engine.take_changes(), {}, {})
    again, _ = engine_for(tmp_path)
    again.restore(store.load_all())
    assert project(again).incidents == project(engine).incidents == (("servicedesk-api", 1, 0, 1),)
    feed(
        again, [resolved(NOW - timedelta(hours=1)), opened(NOW - timedelta(hours=2), incident="P")]
    )
    store.commit(again.take_changes(), {}, {})
    third, _ = engine_for(tmp_path)
    third.restore(store.load_all())
    assert project(third).incidents == (("servicedesk-api", 0, 2, 0),)
    assert project(third).period.uptime == 1 - 7200 / (2 * elapsed_s(NOW))
    store.close()


def test_a_declaration_needs_services_for_the_incidents_basis(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        DECLARED.replace("  services: [servicedesk-api, portal]\n", "")
    )
    result = DeclarationRegistry(tmp_path).reload()
    assert any("uptimeFrom: incidents needs `services`" in str(e) for e in result.errors)


def _month(moment: datetime) -> Period:
    return period_containing(moment, PeriodKind.MONTH)


def test_a_project_is_observed_only_since_it_existed(tmp_path: Path) -> None:
    """Declared today, no stageSince, no incidents: observed from when its declaration took
    effect, never from the period start (it would be "met, 100 %" for a month nobody
    watched); a history import's earlier first event moves the start back."""
    engine, clock = engine_for(tmp_path, DECLARED.replace("  stageSince: 2026-10-01\n", ""))
    snap = project(engine)
    assert snap.period.uptime is None  # nothing observed yet
    assert {t.target: t.status for t in snap.targets} == {"uptime": "insufficient_data"}
    clock.now = NOW + timedelta(hours=2)
    engine.views.stale.add("ticket-triage")
    snap = project(engine)
    assert snap.period.observed_s == 2 * 7200  # two services, each observed for two hours
    assert snap.period.uptime == 1
    october = period_containing(datetime(2026, 10, 15, tzinfo=UTC), PeriodKind.MONTH)
    assert engine.period_view("ticket-triage", october).period.uptime is None
    feed(engine, [opened(NOW - timedelta(hours=5)), resolved(NOW - timedelta(hours=4))])
    engine.views.stale.add("ticket-triage")
    snap = project(engine)
    assert snap.period.observed_s == 2 * 7 * 3600  # known since its first event now
    assert snap.period.uptime == 1 - 3600 / (2 * 7 * 3600)
