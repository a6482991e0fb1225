"""Snapshot -> OpenTelemetry `MetricsData`, the same metric set as `/metrics`. Pure.

The Prometheus families are the single definition of names, labels and values; this
module re-expresses them in the OTLP data model without any SDK aggregation (the engine
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
from prometheus_client.core import Metric as Family

from exporters.prometheus.families import families
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


def _sum(family: Family, starts: _Starts, now_ns: int) -> Metric:
    points = [
        NumberDataPoint(dict(s.labels), starts.of(s.labels), now_ns, s.value)
        for s in family.samples
        if s.name.endswith("_total")
    ]
    data = Sum(points, AggregationTemporality.CUMULATIVE, is_monotonic=True)
    return Metric(family.name, family.documentation, _unit(family.name), data)


def _gauge(family: Family, now_ns: int) -> Metric:
    points = [NumberDataPoint(dict(s.labels), 0, now_ns, s.value) for s in family.samples]
    return Metric(family.name, family.documentation, _unit(family.name), Gauge(points))


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
    return Metric(family.name, family.documentation, "s", data)


def metrics(snapshot: Snapshot, now_ns: int) -> Iterable[Metric]:
    starts = _Starts(snapshot)
    for family in families(snapshot):
        if not family.samples:
            continue
        if family.type == "counter":
            yield _sum(family, starts, now_ns)
        elif family.type == "histogram":
            yield _histogram(family, snapshot, now_ns)
        else:
            yield _gauge(family, now_ns)


def metrics_data(snapshot: Snapshot, resource: Resource, now_ns: int) -> MetricsData:
    scope = ScopeMetrics(SCOPE, list(metrics(snapshot, now_ns)), "")
    return MetricsData([ResourceMetrics(resource, [scope], "")])
