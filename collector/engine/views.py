"""Per-project views of the current period, cached between snapshots.

A project's view (realized values, targets, status; its closed periods) is recomputed
when it received events (`mark_stale`), when the declarations changed, when its period
turned, or at the latest `refresh_s` after the last computation (projections move with
time alone)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from collector.engine.evaluate import current_period, project_snapshot
from collector.engine.history import ClosedHistory
from collector.engine.policy import ProjectPolicy
from collector.engine.project import ProjectState
from collector.state.model import RevisionRow
from schemas.snapshot import ProjectSnapshot


@dataclass(frozen=True, slots=True)
class _Cached:
    snapshot: ProjectSnapshot
    policy_version: int
    computed_at: float


class ProjectViews:
    def __init__(self, refresh_s: float) -> None:
        self.refresh_s = refresh_s
        self._cache: dict[str, _Cached] = {}
        self.stale: set[str] = set()
        """Projects that received events since the last snapshot."""
        self.history = ClosedHistory()

    def view(
        self,
        state: ProjectState,
        policy: ProjectPolicy,
        now: datetime,
        tick: float,
        declared_since_s: float | None,
        *,
        revision: RevisionRow | None = None,
    ) -> ProjectSnapshot:
        """`state`'s view now; `tick`: a monotonic reading shared by one snapshot;
        `revision`: its declaration's latest."""
        name = state.name
        cached = self._cache.get(name)
        profile = policy.profile(name)
        period = current_period(profile, now)
        if (
            cached is not None
            and name not in self.stale
            and cached.policy_version == policy.version
            and cached.snapshot.period.key == period.key
            and tick - cached.computed_at < self.refresh_s
            and cached.snapshot.revision == (revision.revision if revision else None)
        ):
            return cached.snapshot
        since = declared_since_s if profile.declared else None
        history = self.history.of(state, profile, now, since, policy.version)
        view = project_snapshot(state, profile, period, now, since, history=history)
        if revision is not None:
            view = replace(view, revision=revision.revision, revised_s=revision.effective_s)
        self._cache[name] = _Cached(view, policy.version, tick)
        return view

    def forget(self, name: str) -> None:
        self._cache.pop(name, None)
        self.history.forget(name)
