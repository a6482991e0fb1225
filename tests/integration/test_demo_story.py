"""The demo's simulated fleet tells the product's story through a real collector."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from collector.app import CollectorApp
from collector.engine.periods import PeriodKind, period_containing
from outcomes.demo.fleet import FleetSimulator
from outcomes.demo.run import EXAMPLE_PROJECTS
from schemas.binding import to_binary
from tests.integration.conftest import collector_settings
from tests.support.brokers import Broker
from tests.support.live import counted, scrape, total, value, wait_until
from tests.support.live import produce as produce_records

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def test_fleet_shows_met_at_risk_off_target_unscoped_and_stalled(
    broker: Broker, topic: str, tmp_path: Path
) -> None:
    simulator = FleetSimulator(lambda: NOW)
    month = period_containing(NOW, PeriodKind.MONTH)
    quarter = period_containing(NOW, PeriodKind.QUARTER)
    events = simulator.backfill(month.start, quarter.start)
    events += [simulator.next_event() for _ in range(300)]
    settings = collector_settings(broker, topic, tmp_path / "state.db", targets=EXAMPLE_PROJECTS)
    app = CollectorApp(settings, clock=lambda: NOW)
    app.start()
    try:
        produce_records(broker.bootstrap_servers, topic, [to_binary(e) for e in events])
        wait_until(counted(app.metrics_url, len(events)))
        series = scrape(app.metrics_url)
    finally:
        app.stop()
    assert total(series, "outcomes_collector_events_total", result="accepted") == len(events)
    expected = {
        "ticket-triage": "met",
        "cost-optimizer": "met",
        "incident-autoremediation": "at_risk",
        "patch-rollout": "off_target",
        "disk-cleanup": "unscoped",
    }
    for project, status in expected.items():
        assert value(series, "outcomes_project_status", project=project, status=status) == 1, (
            project
        )
    last = value(
        series, "outcomes_project_last_event_timestamp_seconds", project="capacity-planner"
    )
    assert last is not None and NOW.timestamp() - last >= 4 * 86400
    assert value(series, "outcomes_portfolio_meeting_objectives_ratio") == 2 / 5
