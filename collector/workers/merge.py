"""One collector's snapshot from the snapshots of its workers.

Each worker owns the projects of its partitions, so their snapshots hold disjoint
projects. A worker sends what changed since its last snapshot (`SnapshotDelta`: the
projects whose view is a new object, the names it no longer exports, the health counters
of each partition it holds); the collector keeps the latest view of every project
(`MergedView`) and builds one snapshot from them, recomputing the portfolio, so
`/metrics` looks the same as with a single worker. Unchanged projects keep their
objects, so the exporter's per-project text cache keeps working.

Counters must never fall on the one endpoint Prometheus scrapes (a fall reads as a
reset), and projects must not vanish while their partition moves between workers (a board
would show a gap, a sum a dip). So a project a worker stops exporting, and the health
counters of a partition it stops reporting (kept per partition, the latest report of
each), stay as last seen until a worker reports them again (its next owner loads the same
stored state) — for `revoked_s` after a revocation (the rebalance that took it has
completed by the time the worker reports: its new owner here reports within moments) and
`hold_s` after the worker exited (the group notices only after its session timeout), and
at least until the workers have been quiet (`observe`: all running, joined and loaded,
holding the same partitions) for `revoked_s` in all since then: a slow rebalance (on some
brokers a replacement's join takes two rounds) must not outlast the hold. One that no
worker here reports by then went to another collector instance, which exports it now:
kept here, a sum over instances would count it twice — so, quiet or not, nothing is kept
longer than `overtime_s` past its time: `hold_s` when no other instance can have it (one
collector's own state file), one session (`revoked_s`) when the state is shared. With shared
state a partition a live worker released goes sooner: once every worker has reported a
settled rebalance (`SnapshotDelta.settled`: its consumer's assignment came after its last
revocation) taken since the release, and none holds it, another instance does — under churn
(instances restarting one after another) holds chained one after another would otherwise
show a project on two instances for as long as the churn lasts.
The event-delay histogram of a worker that exited is carried into its replacement's.
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
    settled: bool = True
    """Its consumer's latest rebalance had ended: it holds exactly these partitions."""
    sent_s: float = 0.0
    """When it was taken (`time.monotonic`: one clock for every process of the host)."""


class DeltaSender:
    """The worker's side: which projects changed since the last delta (by identity: the
    engine hands out the same object for a project that did not change)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._sent: dict[str, ProjectSnapshot] = {}
        self._clock = clock

    def delta(
        self, snapshot: Snapshot, partitions: dict[int, HealthSnapshot], settled: bool = True
    ) -> SnapshotDelta:
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
            settled,
            self._clock(),
        )


@dataclass(frozen=True, slots=True)
class _Kept:
    """Until when something no worker reports is shown as last seen."""

    until_s: float
    """Its time: the clock reading it is kept until at least."""
    quiet_s: float
    """And the quiet time (`MergedView.quiet_s`) it is kept until at least."""
    bound_s: float
    """Past this clock reading it goes, quiet or not."""
    released_s: float | None = None
    """When the delta that released it was taken; None: its worker exited."""

    def due(self, now: float, quiet_s: float, settled_s: float | None) -> bool:
        """`settled_s`: since when every worker has reported a settled rebalance (None:
        one has not, or the state is not shared): if since the release, no worker here
        holds it, and it is another instance's already."""
        released_s = self.released_s
        if released_s is not None and settled_s is not None and settled_s >= released_s:
            return True
        return now >= self.bound_s or (now >= self.until_s and quiet_s >= self.quiet_s)


@dataclass
class _Worker:
    projects: dict[str, ProjectSnapshot]
    health: HealthSnapshot
    taken_at_s: float
    received: int
    """The order this worker's latest delta arrived in (the newest view of a project that
    two workers export during a rebalance wins)."""
    partitions: frozenset[int] = frozenset()
    """The partitions of its latest delta."""
    settled: bool = False
    sent_s: float = 0.0
    """Of its latest delta."""


class MergedView:
    """The collector's side: the latest projects and health of every worker. Not
    thread-safe: the caller serialises `apply`, `forget` and `snapshot`."""

    def __init__(
        self,
        currency: str,
        *,
        hold_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        revoked_s: float | None = None,
        overtime_s: float | None = None,
        shared_by: int = 0,
    ) -> None:
        self.currency = currency
        self._hold_s, self._clock = hold_s, clock
        self._revoked_s = hold_s if revoked_s is None else revoked_s
        self._overtime_s = hold_s if overtime_s is None else overtime_s
        """The longest anything is kept past its time while the workers are not quiet."""
        self._shared_by = shared_by
        """The number of workers, when the state is shared with other collector instances
        (0: it is not): a partition released by a live worker that none of them holds once
        all of them have settled since is another instance's, and goes at once."""
        self._held: dict[str, tuple[ProjectSnapshot, _Kept]] = {}
        """Projects no worker exports now, as last seen, and until when they are shown."""
        self._workers: dict[int, _Worker] = {}
        self._partitions: dict[int, HealthSnapshot] = {}
        self._released: dict[int, _Kept] = {}
        """Partitions no worker reports now, and until when their counters are kept."""
        self._lag: dict[tuple[str, int], int] = {}
        self._carried: dict[int, Histogram] = {}
        """Per worker slot: the event delays its earlier processes observed."""
        self._received = 0
        self._quiet_total_s = 0.0
        """The quiet time up to the latest observation (`observe`)."""
        self._observed: tuple[float, bool, frozenset[int]] | None = None
        """The latest observation: when, whether quiet, the partitions held (before the
        first, things are kept for their time only)."""

    def observe(self, quiet: bool, held: frozenset[int]) -> None:
        """The workers' state, at each report: `quiet` — all running, joined and loaded;
        `held` — the partitions they hold. The time between two quiet observations holding
        the same partitions is quiet time (a change means a rebalance went by)."""
        now, last = self._clock(), self._observed
        if last is not None and last[1] and quiet and held == last[2]:
            self._quiet_total_s += now - last[0]
        self._observed = (now, quiet, held)

    def quiet_s(self, now: float) -> float:
        """The workers' quiet time so far (a clock that only runs while they are quiet)."""
        last = self._observed
        running = now - last[0] if last is not None and last[1] else 0.0
        return self._quiet_total_s + running

    def _kept(self, seconds: float, released_s: float | None = None) -> _Kept:
        now = self._clock()
        quiet_s = 0.0 if self._observed is None else self.quiet_s(now) + self._revoked_s
        return _Kept(now + seconds, quiet_s, now + seconds + self._overtime_s, released_s)

    def _settled_s(self) -> float | None:
        """Since when every worker has reported settled (with shared state only)."""
        workers = self._workers.values()
        if not self._shared_by or len(self._workers) < self._shared_by:
            return None
        if not all(state.settled for state in workers):
            return None
        return min(state.sent_s for state in workers)

    def apply(self, worker: int, delta: SnapshotDelta) -> None:
        self._received += 1
        state = self._workers.get(worker)
        if state is None:
            state = self._workers[worker] = _Worker({}, delta.health, 0.0, 0)
        for name in delta.removed:
            self._hold(state.projects.pop(name, None), self._revoked_s, delta.sent_s)
        for project in delta.changed:
            state.projects[project.name] = project
            self._held.pop(project.name, None)
        state.health, state.taken_at_s = delta.health, delta.taken_at_s
        state.received, state.settled, state.sent_s = self._received, delta.settled, delta.sent_s
        reported = frozenset(partition for partition, _ in delta.partitions)
        dropped, state.partitions = state.partitions - reported, reported
        self._release(dropped, self._revoked_s, delta.sent_s)
        for partition in reported:
            self._released.pop(partition, None)
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
                self._hold(project, self._hold_s)
            self._release(state.partitions, self._hold_s)
            carried = self._carried.get(worker)
            delays = state.health.event_delay
            self._carried[worker] = delays if carried is None else added(carried, delays)

    def _release(
        self, partitions: Iterable[int], seconds: float, released_s: float | None = None
    ) -> None:
        """Keep the counters of `partitions` that no other worker has for `seconds`."""
        kept = self._kept(seconds, released_s)
        for partition in partitions:
            if not any(partition in state.partitions for state in self._workers.values()):
                self._released[partition] = kept

    def _expire(self, now: float, quiet_s: float, settled_s: float | None) -> None:
        """Drop the counters and lag of partitions whose time is up."""
        for partition, kept in list(self._released.items()):
            if kept.due(now, quiet_s, settled_s):
                del self._released[partition]
                self._partitions.pop(partition, None)
                for key in [key for key in self._lag if key[1] == partition]:
                    del self._lag[key]

    def _hold(
        self, project: ProjectSnapshot | None, seconds: float, released_s: float | None = None
    ) -> None:
        if project is not None:
            self._held[project.name] = (project, self._kept(seconds, released_s))

    @property
    def holding(self) -> bool:
        """Some project or partition's counters are shown as last seen (the snapshot
        changes when they expire)."""
        return bool(self._held or self._released)

    def snapshot(self) -> Snapshot | None:
        """The merged snapshot; None before any worker sent one."""
        if not self._workers:
            return None
        workers = sorted(self._workers.values(), key=lambda state: state.received)
        now = self._clock()
        quiet_s, settled_s = self.quiet_s(now), self._settled_s()
        self._held = {
            name: kept
            for name, kept in self._held.items()
            if not kept[1].due(now, quiet_s, settled_s)
        }
        self._expire(now, quiet_s, settled_s)
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
