"""An in-memory state store: the `StateStore` contract without a database.

For tests and embedding (as OpenTelemetry ships `InMemoryMetricReader`): it keeps what
is committed for as long as the object lives, claims and fences like the SQL stores, and
writes a batch all or nothing (rows are encoded before anything changes, so a row that
cannot be stored leaves the store as it was). Not thread-safe, as the contract allows.
"""

from __future__ import annotations

import json

from collector.state.encoding import stored_json as _json
from collector.state.model import (
    IncidentRow,
    LoadedState,
    PeriodRow,
    ProjectRow,
    ReviewRow,
    RevisionRow,
    RunRow,
    SeenRow,
    StateChanges,
    StatementRow,
    TopicPartitionKey,
    WindowRow,
    seen_rows,
)
from collector.state.store import Fence, FencedError


class MemoryStore:
    def __init__(self, *, single_instance: bool = True) -> None:
        self.single_instance = single_instance
        self._owners: dict[TopicPartitionKey, int] = {}
        self._projects: dict[str, tuple[int, str]] = {}
        self._periods: dict[tuple[str, str], tuple[str, float, float, str]] = {}
        self._seen: list[SeenRow] = []
        self._windows: dict[tuple[str, str, int, int], WindowRow] = {}
        self._incidents: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._declared: dict[str, float] = {}
        self._revisions: dict[tuple[str, int], RevisionRow] = {}
        self._runs: list[tuple[int, float, str]] = []
        self._reviews: dict[tuple[str, str], tuple[str, float]] = {}
        self._statements: dict[tuple[str, str], str] = {}
        self._health: dict[int, str] = {}
        self._offsets: dict[TopicPartitionKey, int] = {}

    def claim(self, topic: str, partitions: list[int], owner: str) -> Fence:
        fence: Fence = {}
        for partition in sorted(partitions):
            key = (topic, partition)
            fence[key] = self._owners[key] = self._owners.get(key, 0) + 1
        return fence

    def load(self, topic: str, partitions: list[int]) -> LoadedState:
        held = set(partitions)
        if not held:
            return LoadedState()
        state = self._state(seen=True)
        names = {row.project for row in state.projects if row.partition in held}
        return LoadedState(
            projects=tuple(row for row in state.projects if row.project in names),
            periods=tuple(row for row in state.periods if row.project in names),
            seen=tuple(row for row in state.seen if row.partition in held),
            health={p: data for p, data in state.health.items() if p in held},
            offsets={k: v for k, v in state.offsets.items() if k[0] == topic and k[1] in held},
            windows=tuple(row for row in state.windows if row.project in names),
            incidents=tuple(row for row in state.incidents if row.project in names),
            declared=state.declared,
            revisions=state.revisions,
            runs=tuple(row for row in state.runs if row.partition in held),
            reviews=tuple(row for row in state.reviews if row.project in names),
            statements=tuple(row for row in state.statements if row.project in names),
        )

    def load_all(self, *, seen: bool = True) -> LoadedState:
        return self._state(seen=seen)

    def load_period(self, project: str, key: str) -> PeriodRow | None:
        found = self._periods.get((project, key))
        if found is None:
            return None
        kind, start_s, end_s, totals = found
        return PeriodRow(project, key, kind, start_s, end_s, json.loads(totals))

    def commit(
        self, changes: StateChanges, offsets: dict[TopicPartitionKey, int], fence: Fence
    ) -> None:
        encoded = _Encoded(changes)  # raises before anything changes
        lost = [
            key for key, generation in sorted(fence.items()) if self._owners.get(key) != generation
        ]
        if lost:
            raise FencedError(lost)
        self._projects.update(encoded.projects)
        self._periods.update(encoded.periods)
        self._seen.extend(seen_rows(changes.seen))
        self._windows.update(
            ((w.project, w.service, w.start_us, w.end_us), w) for w in changes.windows
        )
        self._incidents.update(encoded.incidents)
        self._runs.extend(encoded.runs)
        self._reviews.update(encoded.reviews)
        self._statements.update(encoded.statements)
        for project, since_s in changes.declared:
            self._declared.setdefault(project, since_s)
        for revision in changes.revisions:  # a stored revision is never rewritten
            self._revisions.setdefault((revision.project, revision.revision), revision)
        self._health.update(encoded.health)
        self._offsets.update(offsets)
        before = changes.forget_seen_before_s
        if before is not None:
            self._seen = [row for row in self._seen if row.forget_after_s > before]
            self._windows = {k: w for k, w in self._windows.items() if w.forget_after_s > before}
            self._incidents = {k: v for k, v in self._incidents.items() if v[1] > before}
            self._runs = [r for r in self._runs if r[1] > before]
            self._reviews = {k: v for k, v in self._reviews.items() if v[1] > before}

    def close(self) -> None:
        """Nothing to release: what was committed stays until the object goes."""

    def _state(self, *, seen: bool) -> LoadedState:
        return LoadedState(
            projects=tuple(
                ProjectRow(name, partition, json.loads(counters))
                for name, (partition, counters) in self._projects.items()
            ),
            periods=tuple(
                PeriodRow(project, key, kind, start_s, end_s, json.loads(totals))
                for (project, key), (kind, start_s, end_s, totals) in self._periods.items()
            ),
            seen=tuple(self._seen) if seen else (),
            health={p: json.loads(data) for p, data in self._health.items()},
            offsets=dict(self._offsets),
            windows=tuple(
                sorted(
                    self._windows.values(),
                    key=lambda w: (w.project, w.start_us, w.end_us, w.service),
                )
            ),
            incidents=tuple(
                IncidentRow(project, service, incident, json.loads(data), forget_after_s)
                for (project, service, incident), (data, forget_after_s) in self._incidents.items()
            ),
            declared=dict(self._declared),
            revisions=tuple(self._revisions[key] for key in sorted(self._revisions)),
            runs=tuple(RunRow(p, forget, json.loads(runs)) for p, forget, runs in self._runs),
            reviews=tuple(
                ReviewRow(project, subject, json.loads(data), forget_after_s)
                for (project, subject), (data, forget_after_s) in self._reviews.items()
            ),
            statements=tuple(
                StatementRow(project, statement, json.loads(data))
                for (project, statement), data in self._statements.items()
            ),
        )


class _Encoded:
    """A batch's JSON columns, encoded as a database would store them."""

    def __init__(self, changes: StateChanges) -> None:
        self.projects = {r.project: (r.partition, _json(r.counters)) for r in changes.projects}
        self.periods = {
            (r.project, r.key): (r.kind, r.start_s, r.end_s, _json(r.totals))
            for r in changes.periods
        }
        self.incidents = {
            (r.project, r.service, r.incident): (_json(r.data), r.forget_after_s)
            for r in changes.incidents
        }
        self.health = {partition: _json(data) for partition, data in changes.health}
        self.runs = [(r.partition, r.forget_after_s, _json(r.runs)) for r in changes.runs]
        self.reviews = {
            (r.project, r.subject): (_json(r.data), r.forget_after_s) for r in changes.reviews
        }
        self.statements = {(r.project, r.statement): _json(r.data) for r in changes.statements}
