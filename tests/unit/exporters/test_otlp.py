from __future__ import annotations

import logging
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    HistogramDataPoint,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, generate_latest

from exporters.otlp import OtlpPusher, factory, metrics_data
from exporters.prometheus import SnapshotCollector
from tests.support.live import parse_series
from tests.support.otlp import to_series
from tests.support.snapshots import sample_snapshot

NOW_NS = 1_794_744_000_000_000_000


def test_otlp_carries_exactly_the_prometheus_series() -> None:
    snapshot = sample_snapshot()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(lambda: snapshot))
    expected = parse_series(generate_latest(registry).decode())
    request = encode_metrics(metrics_data(snapshot, Resource.create({}), NOW_NS))
    assert to_series(request) == expected


def test_counters_are_cumulative_monotonic_and_start_with_the_project() -> None:
    snapshot = sample_snapshot()
    data = metrics_data(snapshot, Resource.create({}), NOW_NS)
    by_name = {m.name: m for m in data.resource_metrics[0].scope_metrics[0].metrics}
    runs = by_name["outcomes_runs"]
    assert isinstance(runs.data, Sum)
    assert runs.data.is_monotonic
    assert runs.data.aggregation_temporality is AggregationTemporality.CUMULATIVE
    assert by_name["outcomes_manual_time_avoided_seconds"].unit == "s"
    assert by_name["outcomes_period_roi_ratio"].unit == "1"
    events = by_name["outcomes_collector_events"]
    assert {p.start_time_unix_nano for p in events.data.data_points} == {0}  # health since 0 here
    delay = by_name["outcomes_collector_event_delay_seconds"].data.data_points[0]
    assert isinstance(delay, HistogramDataPoint)
    assert (delay.count, delay.sum, list(delay.bucket_counts)) == (10, 7.25, [3, 6, 1])


def test_resource_honours_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    assert dict(factory.resource("1").attributes)["service.name"] == "outcomes-collector"
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,team=sre")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "oc-eu")
    attributes = dict(factory.resource("1.2.3").attributes)
    assert attributes["service.version"] == "1.2.3"
    assert (attributes["deployment.environment"], attributes["team"]) == ("prod", "sre")
    assert attributes["service.name"] == "oc-eu"


def test_enabled_by_config_or_standard_variables() -> None:
    assert not factory.enabled(None, {})
    assert factory.enabled("http://otel:4318", {})
    assert factory.enabled(None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"})
    assert factory.enabled(
        None, {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://otel:4318/v1/metrics"}
    )
    assert factory.protocol_of(None, {}) == "http/protobuf"
    assert factory.protocol_of(None, {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}) == "grpc"
    with pytest.raises(factory.OtlpConfigError, match="http/json"):
        factory.protocol_of("http/json", {})


class FailingExporter(MetricExporter):
    def __init__(self, outcome: Any) -> None:
        super().__init__()
        self.outcome = outcome
        self.calls = 0

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self.calls += 1
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome  # type: ignore[no-any-return]

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


@pytest.mark.parametrize("outcome", [MetricExportResult.FAILURE, ConnectionError("refused")])
def test_failures_are_counted_and_never_raise(
    outcome: Any, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = FailingExporter(outcome)
    pusher = OtlpPusher(sample_snapshot, exporter, Resource.create({}), interval_s=60)
    pusher.start()
    with caplog.at_level(logging.WARNING):
        assert pusher.force_flush(5)
        assert pusher.force_flush(5)
    pusher.shutdown()
    assert pusher.results["failure"] >= 2
    assert "OTLP export failed" in caplog.text


def test_an_outage_is_said_once_its_end_once_and_shutdown_does_not_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exporter = FailingExporter(ConnectionError("refused"))
    pusher = OtlpPusher(sample_snapshot, exporter, Resource.create({}), interval_s=60)
    pusher.start()
    with caplog.at_level(logging.INFO, logger="exporters.otlp.pusher"):
        for outcome in (None, None, MetricExportResult.SUCCESS, MetricExportResult.FAILURE, None):
            if outcome is not None:
                exporter.outcome = outcome
            assert pusher.force_flush(5)
        calls = exporter.calls
        pusher.shutdown()
    assert exporter.calls == calls == 5  # still down at shutdown: no last attempt
    messages = [record.getMessage() for record in caplog.records]
    assert sum("OTLP export failed (refused)" in m for m in messages) == 1
    assert sum("OTLP export failed" in m for m in messages) == 2  # two outages
    assert sum("reachable again" in m for m in messages) == 1
