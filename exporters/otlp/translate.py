"""Snapshot -> OpenTelemetry `MetricsData`, the same metric set as `/metrics`. Pure.

The catalog (`exporters.catalog`) is the single definition of names, labels and values;
this module re-expresses it in the OTLP data model without any SDK aggregation (the engine
has already aggregated, exactly):

* counters -> monotonic cumulative Sums named without `_total` (OTLP -> Prometheus
  translation adds it back), start time = when the series began counting (a project's
  first event; the health counters' first event), so it survives restarts;
* gauges -> Gauges; histograms -> cumulative Histograms with min and max.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from exporters.catalog import DELAY, Family, Sample, samples
from schemas.snapshot import Snapshot

SCOPE: Final = InstrumentationScope("outcome-telemetry-collector")
_NS: Final = 1_000_000_000


def _unit(name: str) -> str:
    if name.endswith("_seconds") or "_seconds_" in name:
        return "s"
    if name.endswith("_ratio"):
        return "1"
    return ""


def _ns(seconds: float) -> int:
    return round(seconds * _NS)


class _Starts:
    """Start time of each cumulative series."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._projects = {
            p.name: _ns(p.counters.since_s or snapshot.health.since_s) for p in snapshot.projects
        }
        self._health = _ns(snapshot.health.since_s)

    def of(self, labels: dict[str, str]) -> int:
        project = labels.get("project")
        return self._projects.get(project, self._health) if project else self._health


def _otlp_name(family: Family) -> str:
    """Counters without `_total` (the OTLP -> Prometheus translation adds it back)."""
    return family.name.removesuffix("_total") if family.kind == "counter" else family.name


def _sum(family: Family, found: list[Sample], starts: _Starts, now_ns: int) -> Metric:
    points = []
    for values, value in found:
        labels = dict(zip(family.labels, values, strict=True))
        points.append(NumberDataPoint(labels, starts.of(labels), now_ns, value))
    data = Sum(points, AggregationTemporality.CUMULATIVE, is_monotonic=True)
    return Metric(_otlp_name(family), family.help, _unit(family.name), data)


def _gauge(family: Family, found: list[Sample], now_ns: int) -> Metric:
    points = [
        NumberDataPoint(dict(zip(family.labels, values, strict=True)), 0, now_ns, value)
        for values, value in found
    ]
    return Metric(family.name, family.help, _unit(family.name), Gauge(points))


def _histogram(family: Family, snapshot: Snapshot, now_ns: int) -> Metric:
    delay = snapshot.health.event_delay
    previous, counts = 0, []
    for cumulative in (*delay.cumulative, delay.count):
        counts.append(cumulative - previous)
        previous = cumulative
    point = HistogramDataPoint(
        attributes={},
        start_time_unix_nano=_ns(delay.since_s),
        time_unix_nano=now_ns,
        count=delay.count,
        sum=delay.total,
        bucket_counts=counts,
        explicit_bounds=list(delay.bounds),
        min=delay.minimum,
        max=delay.maximum,
    )
    data = Histogram([point], AggregationTemporality.CUMULATIVE)
    return Metric(family.name, family.help, "s", data)


def metrics(snapshot: Snapshot, now_ns: int) -> Iterable[Metric]:
    starts = _Starts(snapshot)
    for family, found in samples(snapshot):
        if family is DELAY:
            yield _histogram(family, snapshot, now_ns)
        elif not found:
            continue
        elif family.kind == "counter":
            yield _sum(family, found, starts, now_ns)
        else:
            yield _gauge(family, found, now_ns)


def metrics_data(snapshot: Snapshot, resource: Resource, now_ns: int) -> MetricsData:
    scope = ScopeMetrics(SCOPE, list(metrics(snapshot, now_ns)), "")
    return MetricsData([ResourceMetrics(resource, [scope], "")])
