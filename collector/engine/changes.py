"""The change log: what the engine changed since the last commit, as rows of the store.

`Engine.apply` notes each change here (a month's totals, an accepted event's digest, a
window, an incident, a declaration that took effect); `take` turns them into one
`StateChanges` committed with the batch's offsets, and starts afresh. One thread (the
pipeline's) uses it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final, Generic, TypeVar

from collector.engine.project import ProjectState
from collector.state.model import (
    IncidentRow,
    ReviewRow,
    RevisionRow,
    RunRow,
    SeenBatch,
    StateChanges,
    StatementRow,
    WindowRow,
)

LONGEST_PERIOD: Final = timedelta(days=92)
KEEP: Final = 1e12
"""forget-after of what must be kept (an open incident): far beyond any clock."""


_T = TypeVar("_T")


class Batches(Generic[_T]):
    """Lists by (partition, forget-after), the one used last at hand: the events of a
    batch mostly share both, and a dict lookup by a tuple with a float costs as much as
    the rest of noting a change."""

    def __init__(self) -> None:
        self.lists: dict[tuple[int, float], list[_T]] = {}
        self._partition = -1
        self._forget_s = 0.0
        self._last: list[_T] | None = None

    def of(self, partition: int, forget_s: float) -> list[_T]:
        """The list for (partition, forget-after), made on first use."""
        last = self._last
        if last is not None and partition == self._partition and forget_s == self._forget_s:
            return last
        key = (partition, forget_s)
        found = self.lists.get(key)
        if found is None:
            found = self.lists[key] = []
        self._partition, self._forget_s, self._last = partition, forget_s, found
        return found


class ChangeLog:
    def __init__(self, grace: timedelta) -> None:
        self._grace = grace
        self.months: set[tuple[str, str]] = set()
        """(project, month key) whose totals changed."""
        self.seen: Batches[bytes] = Batches()
        """(partition, forget-after) -> digests of the events counted."""
        self.windows: list[WindowRow] = []
        self.incidents: set[tuple[str, str, str]] = set()
        """(project, service, incident key) that changed."""
        self.declared: list[tuple[str, float]] = []
        """(project, when its declaration took effect) first seen here."""
        self.revisions: list[RevisionRow] = []
        """New versions of declarations, appended here."""
        self.runs: Batches[Any] = Batches()
        """(partition, forget-after) -> runs remembered for their reviews, as `RunRow.runs`
        holds them (flat: no object per run waits for the commit)."""
        self.reviews: set[tuple[str, str]] = set()
        """(project, run id) whose verdict or pending review changed."""
        self.statements: set[tuple[str, str]] = set()
        """(project, statement) whose latest version changed."""

    def take(
        self,
        projects: Mapping[str, ProjectState],
        health: tuple[tuple[int, dict[str, Any]], ...],
    ) -> StateChanges:
        """The changes since the last call (with the partitions' `health` rows)."""
        names = sorted(
            {name for name, _ in self.months}
            | {name for name, _, _ in self.incidents if name in projects}
            | {name for name, _ in self.reviews if name in projects}
            | {name for name, _ in self.statements if name in projects}
        )
        changes = StateChanges(
            projects=tuple(projects[name].row() for name in names),
            periods=tuple(projects[name].month_row(key) for name, key in sorted(self.months)),
            seen=tuple(
                SeenBatch(p, forget, digests) for (p, forget), digests in self.seen.lists.items()
            ),
            windows=tuple(self.windows),
            incidents=tuple(
                self._incident_row(projects[name], service, key)
                for name, service, key in sorted(self.incidents)
            ),
            health=health,
            runs=tuple(RunRow(p, forget, runs) for (p, forget), runs in self.runs.lists.items()),
            reviews=tuple(
                ReviewRow(name, subject, *projects[name].review_book.review_row(subject))
                for name, subject in sorted(self.reviews)
                if name in projects and projects[name].review_book.holds(subject)
            ),
            statements=tuple(
                StatementRow(name, key, projects[name].statements[key].to_json())
                for name, key in sorted(self.statements)
                if name in projects and key in projects[name].statements
            ),
        )
        self.runs = Batches()
        self.reviews.clear()
        self.statements.clear()
        self.months.clear()
        self.seen = Batches()
        self.windows = []
        self.incidents.clear()
        return changes

    def note_seen(self, partition: int, forget_after_s: float, digest: bytes) -> None:
        """An accepted event's digest, kept until `forget_after_s`."""
        self.seen.of(partition, forget_after_s).append(digest)

    def note_run(
        self,
        partition: int,
        forget_after_s: float,
        run: tuple[str, str, str, int, str, int],
    ) -> None:
        """A run remembered for its review: (project, run id, month, day, outcome, manual µs),
        appended flat as `RunRow.runs` holds it."""
        self.runs.of(partition, forget_after_s).extend(run)

    def take_declared(self) -> StateChanges:
        """Declarations that took effect since the last call (written even without events)."""
        changes = StateChanges(declared=tuple(self.declared), revisions=tuple(self.revisions))
        self.declared, self.revisions = [], []
        return changes

    def _incident_row(self, project: ProjectState, service: str, key: str) -> IncidentRow:
        incident = project.incidents[(service, key)]
        ends = [end for _, end in incident.intervals]
        if incident.is_open or incident.pending or None in ends:
            forget_after_s = KEEP
        else:  # kept as long as the months its intervals lie in
            last_end = max(end for end in ends if end is not None) / 1e6
            forget_after_s = last_end + (self._grace + 2 * LONGEST_PERIOD).total_seconds()
        return IncidentRow(project.name, service, key, incident.to_json(), forget_after_s)
