"""Collector self-observation: events by result, rejections by reason, event delay."""

from __future__ import annotations

from bisect import bisect_left as _bucket
from bisect import bisect_right as _upto
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from schemas.snapshot import Histogram

DELAY_BOUNDS_S: Final[tuple[float, ...]] = (
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 900.0, 3600.0, 21600.0, 86400.0, 604800.0,
)  # fmt: skip


@dataclass
class DelayHistogram:
    """Event time -> applied, in seconds. In memory only: a restart resets it."""

    buckets: list[int] = field(default_factory=lambda: [0] * len(DELAY_BOUNDS_S))
    count: int = 0
    total_s: float = 0.0
    minimum_s: float = 0.0
    maximum_s: float = 0.0
    since_s: float = 0.0

    def observe(self, delay_s: float) -> None:
        delay_s = max(delay_s, 0.0)
        if self.count == 0 or delay_s < self.minimum_s:
            self.minimum_s = delay_s
        self.maximum_s = max(self.maximum_s, delay_s)
        index = _bucket(DELAY_BOUNDS_S, delay_s)
        if index < len(self.buckets):
            self.buckets[index] += 1
        self.count += 1
        self.total_s += delay_s

    def observe_all(self, delays: list[float]) -> None:
        """`observe` each of `delays` (negative ones as 0): the same counts, minimum and
        maximum, from one sort instead of a call per delay."""
        if not delays:
            return
        ordered = sorted(delays)
        low, high = max(0.0, ordered[0]), max(0.0, ordered[-1])
        self.minimum_s = low if self.count == 0 else min(self.minimum_s, low)
        self.maximum_s = max(self.maximum_s, high)
        below = 0
        for index, bound in enumerate(DELAY_BOUNDS_S):
            upto = _upto(ordered, bound)  # delays <= bound
            self.buckets[index] += upto - below
            below = upto
        self.count += len(ordered)
        for delay_s in delays:
            if delay_s > 0.0:
                self.total_s += delay_s

    def freeze(self) -> Histogram:
        cumulative, running = [], 0
        for bucket in self.buckets:
            running += bucket
            cumulative.append(running)
        return Histogram(
            DELAY_BOUNDS_S,
            tuple(cumulative),
            self.count,
            self.total_s,
            self.minimum_s,
            self.maximum_s,
            self.since_s,
        )


@dataclass
class HealthCounters:
    """Persisted with each batch, so they stay exact across crashes."""

    events: Counter[tuple[str, str]] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    overflow: Counter[str] = field(default_factory=Counter)
    since_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "since_s": self.since_s,
            "events": [[t, r, n] for (t, r), n in self.events.items()],
            "rejected": dict(self.rejected),
            "overflow": dict(self.overflow),
        }

    def merged(self, other: HealthCounters) -> HealthCounters:
        since = [s for s in (self.since_s, other.since_s) if s is not None]
        return HealthCounters(
            self.events + other.events,
            self.rejected + other.rejected,
            self.overflow + other.overflow,
            min(since) if since else None,
        )

    def restore(self, raw: dict[str, Any]) -> None:
        self.events = Counter({(t, r): n for t, r, n in raw.get("events", [])})
        self.rejected = Counter(raw.get("rejected", {}))
        self.overflow = Counter(raw.get("overflow", {}))
        self.since_s = raw.get("since_s")
