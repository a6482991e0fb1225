"""OTLP push from a live collector to a local receiver: the same series as /metrics; an
unreachable endpoint changes nothing for ingestion."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.app import CollectorApp
from collector.embedded import free_port
from outcomes.demo.fleet import FleetSimulator
from outcomes.demo.run import EXAMPLE_PROJECTS
from schemas.binding import KafkaRecord, to_binary
from tests.integration.conftest import collector_settings
from tests.support.brokers import Broker
from tests.support.live import counted, http_get, produce, scrape, total, wait_until
from tests.support.otlp import OtlpReceiver, to_series

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def fleet_records(count: int) -> list[KafkaRecord]:
    simulator = FleetSimulator(lambda: NOW, seed=random.randrange(1000))
    return [to_binary(simulator.next_event()) for _ in range(count)] + [
        KafkaRecord(b"x", [], b"junk")
    ]


def test_otlp_delivers_every_metric_with_the_values_of_metrics(
    broker: Broker, topic: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
    with OtlpReceiver() as receiver:
        settings = collector_settings(
            broker, topic, tmp_path / "state.db", targets=EXAMPLE_PROJECTS,
            otlp_endpoint=receiver.endpoint, otlp_interval_s=60,
        )  # fmt: skip
        app = CollectorApp(settings, clock=lambda: NOW)
        app.start()
        try:
            records = fleet_records(400)
            produce(broker.bootstrap_servers, topic, records)
            wait_until(counted(app.metrics_url, len(records)))
            assert app.otlp is not None and app.otlp.force_flush(30)
            pushed = to_series(receiver.requests[-1])
            exposed = scrape(app.metrics_url)
        finally:
            app.stop()
    exposed = {k: v for k, v in exposed.items() if k[0] != "outcomes_collector_otlp_exports_total"}
    pushed = {k: v for k, v in pushed.items() if k[0] != "outcomes_collector_otlp_exports_total"}
    assert pushed == exposed
    resource = {
        kv.key: kv.value.string_value
        for kv in receiver.requests[-1].resource_metrics[0].resource.attributes
    }
    assert resource["service.name"] == "outcomes-collector"
    assert resource["deployment.environment"] == "test"


def test_an_unreachable_endpoint_changes_nothing_for_ingestion(
    broker: Broker, topic: str, tmp_path: Path
) -> None:
    settings = collector_settings(
        broker, topic, tmp_path / "state.db", otlp_endpoint=f"http://127.0.0.1:{free_port()}", otlp_interval_s=0.2,
    )  # fmt: skip
    app = CollectorApp(settings, clock=lambda: NOW)
    app.start()
    try:
        records = fleet_records(300)
        produce(broker.bootstrap_servers, topic, records)
        wait_until(counted(app.metrics_url, len(records)))
        base = app.metrics_url.removesuffix("/metrics")
        wait_until(lambda: http_get(f"{base}/readyz")[0] == 200)
        failures = wait_until(
            lambda: (
                total(
                    scrape(app.metrics_url),
                    "outcomes_collector_otlp_exports_total",
                    result="failure",
                )
                or None
            )
        )
        assert failures >= 1
        assert (
            total(scrape(app.metrics_url), "outcomes_collector_events_total", result="accepted")
            == 300
        )
    finally:
        app.stop()
