"""Incidents of a project's services, paired and counted (docs/REFERENCE.md#incidents).

An incident is keyed by (service, incident key). `opened` gives its start, `resolved` its
end (and may carry `started_at` itself); they pair in either arrival order. Repeats
collapse: an `opened` inside a known interval, or a `resolved` with the end already
known, changes nothing. A `resolved` whose start is unknown stays pending (counted) until
its `opened` arrives; it is never guessed. An `opened` after the incident was resolved
reopens it (a new interval). Times are integer microseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Interval = list[int | None]
"""[start µs or None (pending), end µs or None (open)]."""


class IncidentConflictError(ValueError):
    """An event that contradicts what is known: resolved before it started."""


@dataclass
class Incident:
    label: str
    """The service label its series count under (after folding)."""
    intervals: list[Interval] = field(default_factory=list)
    title: str | None = None
    severity: str | None = None
    resolved_by: str | None = None

    @property
    def is_open(self) -> bool:
        return any(start is not None and end is None for start, end in self.intervals)

    @property
    def pending(self) -> int:
        return sum(start is None for start, _ in self.intervals)

    @property
    def resolved(self) -> int:
        return sum(start is not None and end is not None for start, end in self.intervals)

    def open_at(self, start_us: int) -> None:
        """An `opened` at `start_us`."""
        for begin, end in self.intervals:
            if begin is not None and begin <= start_us and (end is None or start_us <= end):
                return  # a repeat inside what is known
        pending = [
            i for i in self.intervals if i[0] is None and i[1] is not None and start_us <= i[1]
        ]
        if pending:
            min(pending, key=_order)[0] = start_us  # a resolution waiting for its start
            return
        for interval in self.intervals:
            if interval[1] is None and interval[0] is not None and start_us < interval[0]:
                interval[0] = start_us  # an earlier `opened` arrived later
                return
        self.intervals.append([start_us, None])  # new, or reopened after its resolution
        self.intervals.sort(key=_order)

    def resolution_conflict(self, end_us: int, started_us: int | None) -> str | None:
        """Why a `resolved` at `end_us` cannot be paired, or None."""
        if any(end == end_us for _, end in self.intervals):
            return None  # a repeat
        for begin, end in self.intervals:
            if (
                begin is not None
                and end is None
                and end_us < begin
                and (started_us is None or started_us > end_us)
            ):
                return f"resolved before it started: ended {_text(end_us)}, opened {_text(begin)}"
        return None

    def resolve_at(self, end_us: int, started_us: int | None) -> None:
        """A `resolved` at `end_us`, with the start when the source knows it."""
        for interval in self.intervals:
            if interval[1] == end_us:
                if interval[0] is None and started_us is not None:
                    interval[0] = started_us
                return  # a repeat
        for interval in self.intervals:
            begin = interval[0]
            if begin is not None and interval[1] is None:
                if end_us < begin:
                    if started_us is None:
                        raise IncidentConflictError(self.resolution_conflict(end_us, None) or "")
                    break  # an earlier occurrence, with its own start
                if started_us is not None and started_us < begin:
                    interval[0] = started_us
                interval[1] = end_us
                return
        self.intervals.append([started_us, end_us])
        self.intervals.sort(key=_order)

    def spans(self, now_us: int) -> list[tuple[int, int]]:
        """Known intervals as (start, end); an open one runs up to `now_us`."""
        return [
            (begin, now_us if end is None else end)
            for begin, end in self.intervals
            if begin is not None and begin < (now_us if end is None else end)
        ]

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "intervals": self.intervals, "title": self.title,
                "severity": self.severity, "resolved_by": self.resolved_by}  # fmt: skip

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Incident:
        return cls(raw["label"], [list(i) for i in raw["intervals"]], raw.get("title"),
                   raw.get("severity"), raw.get("resolved_by"))  # fmt: skip


def _text(moment_us: int) -> str:
    return datetime.fromtimestamp(moment_us / 1e6, tz=UTC).isoformat()


def _order(interval: Interval) -> int:
    begin, end = interval
    return begin if begin is not None else end if end is not None else 0


def union_within(spans: list[tuple[int, int]], low: int, high: int) -> int:
    """Length of the union of `spans` clipped to [low, high)."""
    total, reach = 0, low
    for start, end in sorted(spans):
        first, last = max(start, reach), min(end, high)
        if last > first:
            total += last - first
            reach = last
    return total
