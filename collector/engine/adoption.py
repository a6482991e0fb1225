"""Projects rebuilt from what the state store holds: a restart, or partitions taken over.

Months, windows, incidents, remembered runs and waiting reviews, and cloud bill
statements come back as they were committed; windows are replayed into their sets and
reconciled with the stored months (collector.engine.project).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from collector.engine.aggregates import LifetimeCounters
from collector.engine.incidents import Incident
from collector.engine.project import ProjectState, month_of
from collector.engine.reviews import RunMemo
from collector.engine.statements import KeptStatement
from collector.state.model import LoadedState, WindowRow


def adopt_projects(
    projects: dict[str, ProjectState], state: LoadedState, now_s: float
) -> list[str]:
    """Add the projects `state` holds to `projects` (replacing any of the same name);
    returns their names."""
    adopted = []
    for row in state.projects:
        counters = LifetimeCounters.from_json(row.counters)
        projects[row.project] = ProjectState(row.project, row.partition, counters)
        adopted.append(row.project)
    for period in state.periods:
        if period.project in projects:
            projects[period.project].restore_month(period, month_of(period))
    _replay_windows(projects, state.windows)
    for kept in state.incidents:
        if kept.project in projects:
            projects[kept.project].restore_incident(
                (kept.service, kept.incident), Incident.from_json(kept.data)
            )
    _restore_reviews(projects, state, now_s)
    for kept_row in state.statements:
        if kept_row.project in projects:
            statement = KeptStatement.from_json(kept_row.data)
            projects[kept_row.project].statements[kept_row.statement] = statement
    return adopted


def _restore_reviews(projects: dict[str, ProjectState], state: LoadedState, now_s: float) -> None:
    """Remembered runs and their verdicts (whose effect the stored months hold already),
    and reviews still waiting for their run."""
    for batch in state.runs:
        if batch.forget_after_s <= now_s:  # forgotten already (its rows not yet deleted)
            continue
        for name, run_id, month, day, outcome, manual_us in stored_runs(batch.runs):
            project = projects.get(name)
            if project is not None:
                memo = RunMemo(month, day, outcome, manual_us, batch.forget_after_s)
                project.review_book.runs.setdefault(run_id, memo)

    for row in state.reviews:
        project = projects.get(row.project)
        if project is not None:
            project.review_book.restore(row.subject, row.data, row.forget_after_s)


def stored_runs(runs: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """(project, run id, month key, epoch day, outcome, manual µs) of each run of a stored
    `RunRow`: six items a run, or a row a run as written before."""
    if not runs or not isinstance(runs[0], str):
        return runs
    items = iter(runs)
    return zip(items, items, items, items, items, items, strict=True)


def _replay_windows(projects: dict[str, ProjectState], rows: Iterable[WindowRow]) -> None:
    """Rebuild the adopted projects' window sets from the stored windows."""
    replayed: dict[str, ProjectState] = {}
    stored: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}
    for row in rows:
        project = projects.get(row.project)
        if project is None:
            continue
        if row.project not in replayed:
            replayed[row.project] = project
            stored[row.project] = {
                (key, label): (totals.observed_us[label], totals.downtime_us.get(label, 0))
                for key, (_, totals) in project.months.items()
                for label in totals.observed_us
            }
        key = (row.service, row.start_us, row.end_us)
        project.observe_window(key, row.label, row.downtime_us, None)
    for name, project in replayed.items():
        project.settle_restored_windows(stored[name])
