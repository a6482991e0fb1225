"""The health ledger: what the collector counted per partition (events by type and
result, rejections by reason, folded labels) and the event-delay histogram.

Accepted events are counted per batch: `Engine.apply` appends to `accepted` and `delays`
(a dict entry and a list item instead of two calls per event) and `settle` moves them
into the counters before anything reads or replaces them. One thread (the pipeline's)
uses it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from collector.engine.health import DelayHistogram, HealthCounters
from collector.engine.snapshots import counters_health
from schemas.snapshot import HealthSnapshot

ACCEPTED = "accepted"


class HealthLedger:
    def __init__(self, since_s: float) -> None:
        self.delay = DelayHistogram(since_s=since_s)
        self.accepted: dict[tuple[int, str], int] = {}
        """(partition, event type) -> events accepted since `settle` last counted them."""
        self.accepted_since_s = 0.0
        self.delays: list[float] = []
        """Delays of the events accepted since `settle` (for `delay`)."""
        self._counters: dict[int, HealthCounters] = {}
        self._dirty: set[int] = set()

    def of(self, partition: int) -> HealthCounters:
        """The partition's counters, marked changed (they are written with the batch)."""
        health = self._counters.get(partition)
        if health is None:
            health = self._counters[partition] = HealthCounters()
        self._dirty.add(partition)
        return health

    def count(self, partition: int, event_type: str, result: str, now_s: float) -> None:
        health = self.of(partition)
        if health.since_s is None:
            health.since_s = now_s
        health.events[(event_type, result)] += 1

    def settle(self) -> None:
        """Count the events accepted since the last call."""
        if not self.accepted:
            return
        for (partition, event_type), accepted in self.accepted.items():
            health = self.of(partition)
            if health.since_s is None:
                health.since_s = self.accepted_since_s
            health.events[(event_type, ACCEPTED)] += accepted
        self.delay.observe_all(self.delays)
        self.accepted = {}
        self.delays = []

    def take_rows(self) -> tuple[tuple[int, dict[str, Any]], ...]:
        """The changed partitions' counters as stored, once each."""
        rows = tuple((p, self._counters[p].to_json()) for p in sorted(self._dirty))
        self._dirty.clear()
        return rows

    def adopt(self, partitions: Iterable[int], stored: Mapping[int, dict[str, Any]]) -> None:
        """Take over `partitions` afresh, then the counters the store holds for them."""
        self.settle()
        for partition in partitions:
            self._counters[partition] = HealthCounters()
        for partition, raw in stored.items():
            self._counters.setdefault(partition, HealthCounters()).restore(raw)

    def release(self, partitions: Iterable[int]) -> None:
        self.settle()
        for partition in partitions:
            self._counters.pop(partition, None)
            self._dirty.discard(partition)

    def merged(self) -> HealthCounters:
        total = HealthCounters()
        for health in self._counters.values():
            total = total.merged(health)
        return total

    def per_partition(self, version: str) -> dict[int, HealthSnapshot]:
        """The health counters of each partition held (a collector with several workers
        keeps each partition's latest, so its sums never fall when partitions move)."""
        self.settle()
        return {p: counters_health(version, health) for p, health in self._counters.items()}
