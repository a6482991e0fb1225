"""The catalog's families as prometheus_client objects (for custom registries)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from exporters.catalog import DELAY, Family, delay_buckets, samples
from schemas.snapshot import Snapshot


def families(snapshot: Snapshot) -> Iterator[Metric]:
    """Every family of the snapshot as prometheus_client objects, in exposition order."""
    for family, found in samples(snapshot):
        if family is DELAY:
            buckets, total = delay_buckets(snapshot)
            yield HistogramMetricFamily(family.name, family.help, buckets=buckets, sum_value=total)
            continue
        metric = _metric(family)
        for labels, value in found:
            metric.add_metric(list(labels), value)
        yield metric


def _metric(family: Family) -> CounterMetricFamily | GaugeMetricFamily:
    kind = CounterMetricFamily if family.kind == "counter" else GaugeMetricFamily
    return kind(family.name, family.help, labels=list(family.labels))
