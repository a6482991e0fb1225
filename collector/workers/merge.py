"""One collector's snapshot from the snapshots of its workers.

Each worker owns the projects of its partitions, so their snapshots hold disjoint
projects. A worker sends what changed since its last snapshot (`SnapshotDelta`: the
projects whose view is a new object, the names it no longer exports, the health counters
of each partition it holds); the collector keeps the latest view of every project
(`MergedView`) and builds one snapshot from them, recomputing the portfolio, so
`/metrics` looks the same as with a single worker. Unchanged projects keep their
objects, so the exporter's per-project text cache keeps working.

Counters must never fall on the one endpoint Prometheus scrapes (a fall reads as a
reset). So the health counters are kept per partition, the latest report of each, also
after its worker exited or the partition moved (its next owner loads the same stored
counters); and the event-delay histogram of a worker that exited is carried into its
replacement's. Projects must not vanish either while their partition moves between
workers (a board would show a gap, a sum a dip): a project a worker stops exporting, or
whose worker exited, stays exported as last seen (`held`) until a worker exports it again,
or for `hold_s` (another collector instance may have taken the partition).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from collector.engine.evaluate import portfolio
from schemas.snapshot import HealthSnapshot, Histogram, ProjectSnapshot, Snapshot


@dataclass(frozen=True, slots=True)
class SnapshotDelta:
    """A worker's snapshot, as sent: what changed since the one before."""

    taken_at_s: float
    currency: str
    changed: tuple[ProjectSnapshot, ...]
    removed: tuple[str, ...]
    health: HealthSnapshot
    """The worker's: its consumer lag and event-delay histogram are read from it."""
    partitions: tuple[tuple[int, HealthSnapshot], ...]
    """The health counters of each partition it holds."""


class DeltaSender:
    """The worker's side: which projects changed since the last delta (by identity: the
    engine hands out the same object for a project that did not change)."""

    def __init__(self) -> None:
        self._sent: dict[str, ProjectSnapshot] = {}

    def delta(self, snapshot: Snapshot, partitions: dict[int, HealthSnapshot]) -> SnapshotDelta:
        sent = self._sent
        current = {project.name: project for project in snapshot.projects}
        changed = tuple(
            project for project in snapshot.projects if sent.get(project.name) is not project
        )
        removed = tuple(name for name in sent if name not in current)
        self._sent = current
        return SnapshotDelta(
            snapshot.taken_at_s,
            snapshot.currency,
            changed,
            removed,
            snapshot.health,
            tuple(sorted(partitions.items())),
        )


@dataclass
class _Worker:
    projects: dict[str, ProjectSnapshot]
    health: HealthSnapshot
    taken_at_s: float
    received: int
    """The order this worker's latest delta arrived in (the newest view of a project that
    two workers export during a rebalance wins)."""


class MergedView:
    """The collector's side: the latest projects and health of every worker. Not
    thread-safe: the caller serialises `apply`, `forget` and `snapshot`."""

    def __init__(
        self,
        currency: str,
        hold_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.currency = currency
        self._hold_s, self._clock = hold_s, clock
        self._held: dict[str, tuple[ProjectSnapshot, float]] = {}
        """Projects no worker exports now, as last seen, and until when they are shown."""
        self._workers: dict[int, _Worker] = {}
        self._partitions: dict[int, HealthSnapshot] = {}
        self._lag: dict[tuple[str, int], int] = {}
        self._carried: dict[int, Histogram] = {}
        """Per worker slot: the event delays its earlier processes observed."""
        self._received = 0

    def apply(self, worker: int, delta: SnapshotDelta) -> None:
        self._received += 1
        state = self._workers.get(worker)
        if state is None:
            state = self._workers[worker] = _Worker({}, delta.health, 0.0, 0)
        for name in delta.removed:
            self._hold(state.projects.pop(name, None))
        for project in delta.changed:
            state.projects[project.name] = project
            self._held.pop(project.name, None)
        state.health, state.taken_at_s = delta.health, delta.taken_at_s
        state.received = self._received
        self._partitions.update(delta.partitions)
        self._lag.update(((t, p), lag) for t, p, lag in delta.health.consumer_lag)
        self.currency = delta.currency

    def forget(self, worker: int) -> None:
        """A worker exited: its projects are no longer exported (the group moves its
        partitions, and their new owner loads them from the state store); its partitions'
        counters and its event delays stay."""
        state = self._workers.pop(worker, None)
        if state is not None:
            for project in state.projects.values():
                self._hold(project)
            carried = self._carried.get(worker)
            delays = state.health.event_delay
            self._carried[worker] = delays if carried is None else added(carried, delays)

    def _hold(self, project: ProjectSnapshot | None) -> None:
        if project is not None:
            self._held[project.name] = (project, self._clock() + self._hold_s)

    @property
    def holding(self) -> bool:
        """Some project is shown as last seen (the snapshot changes when it expires)."""
        return bool(self._held)

    def snapshot(self) -> Snapshot | None:
        """The merged snapshot; None before any worker sent one."""
        if not self._workers:
            return None
        workers = sorted(self._workers.values(), key=lambda state: state.received)
        now = self._clock()
        self._held = {name: kept for name, kept in self._held.items() if kept[1] > now}
        projects = {name: project for name, (project, _) in self._held.items()}
        for state in workers:
            projects.update(state.projects)
        ordered = tuple(projects[name] for name in sorted(projects))
        delays = [state.health.event_delay for state in workers]
        health = summed_counters(workers[-1].health.version, self._partitions.values())
        return Snapshot(
            taken_at_s=max(state.taken_at_s for state in workers),
            currency=self.currency,
            projects=ordered,
            health=HealthSnapshot(
                version=health.version,
                events=health.events,
                rejected=health.rejected,
                consumer_lag=tuple((t, p, lag) for (t, p), lag in sorted(self._lag.items())),
                event_delay=added_all([*delays, *self._carried.values()]),
                label_overflow=health.label_overflow,
                since_s=health.since_s,
            ),
            portfolio=portfolio(ordered),
        )


def summed_counters(version: str, healths: Iterable[HealthSnapshot]) -> HealthSnapshot:
    """The health counters of several partitions added up."""
    events: Counter[tuple[str, str]] = Counter()
    rejected: Counter[str] = Counter()
    overflow: Counter[str] = Counter()
    started = []
    for health in healths:
        events.update({(kind, result): count for kind, result, count in health.events})
        rejected.update(dict(health.rejected))
        overflow.update(dict(health.label_overflow))
        if health.since_s:
            started.append(health.since_s)
    return HealthSnapshot(
        version=version,
        events=tuple((kind, result, n) for (kind, result), n in sorted(events.items())),
        rejected=tuple(sorted(rejected.items())),
        label_overflow=tuple(sorted(overflow.items())),
        since_s=min(started, default=0.0),
    )


def added_all(histograms: list[Histogram]) -> Histogram:
    total = histograms[0]
    for histogram in histograms[1:]:
        total = added(total, histogram)
    return total


def added(a: Histogram, b: Histogram) -> Histogram:
    """One histogram of the observations of both (same buckets; an empty one adds
    nothing, whatever its buckets)."""
    if not b.count:
        return a if a.count or a.bounds else b
    if not a.count:
        return b
    if a.bounds != b.bounds:
        raise ValueError("cannot add histograms with different buckets")
    return Histogram(
        bounds=a.bounds,
        cumulative=tuple(x + y for x, y in zip(a.cumulative, b.cumulative, strict=True)),
        count=a.count + b.count,
        total=a.total + b.total,
        minimum=min(a.minimum, b.minimum),
        maximum=max(a.maximum, b.maximum),
        since_s=min(a.since_s, b.since_s),
    )
