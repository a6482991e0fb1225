"""A prometheus_client custom collector over the latest published snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from exporters.prometheus.families import families
from schemas.snapshot import Snapshot


class SnapshotCollector(Collector):
    """Reads whatever snapshot `latest()` returns at scrape time; never blocks ingestion."""

    def __init__(self, latest: Callable[[], Snapshot | None]) -> None:
        self._latest = latest

    def collect(self) -> Iterator[Metric]:
        snapshot = self._latest()
        if snapshot is not None:
            yield from families(snapshot)

    def describe(self) -> Iterator[Metric]:
        return iter(())
