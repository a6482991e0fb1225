"""Resident memory per project, by tracemalloc: engine state + cached snapshot, and
the /metrics text cached per project by the renderer; and per run remembered for its
review (each run is kept while its quarter accepts events)."""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from datetime import UTC, datetime

from bench.common import table, write
from bench.render import engine_with
from collector.engine.engine import Engine
from collector.engine.settings import EngineSettings
from exporters.prometheus import Renderer
from schemas.envelope import OutcomeEvent
from schemas.events import CostIncurred, EventData, EventType, RunFinished

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


def main(projects: int = 10_000) -> dict[str, float]:
    used, cache = _measure(projects, history=False)
    used_h, cache_h = _measure(projects, history=True)
    per_run = remembered_run_bytes()
    result = {
        "projects": projects,
        "bytes": used,
        "bytes_per_project": used / projects,
        "render_cache_bytes_per_project": cache / projects,
        "bytes_per_project_with_history": used_h / projects,
        "render_cache_bytes_per_project_with_history": cache_h / projects,
        "bytes_per_remembered_run": per_run,
    }
    table(
        "memory",
        [
            (f"{projects:,} projects (4 events, 5 targets each)", f"{used / 1e6:.1f} MB"),
            ("per project: engine state and snapshot", f"{used / projects / 1024:.1f} KiB"),
            ("per project: cached /metrics text", f"{cache / projects / 1024:.1f} KiB"),
            (
                "per project with 12 closed months: state and snapshot",
                f"{used_h / projects / 1024:.1f} KiB",
            ),
            (
                "per project with 12 closed months: cached /metrics text",
                f"{cache_h / projects / 1024:.1f} KiB",
            ),
            ("per run remembered for its review (UUID ids)", f"{per_run:.0f} B"),
        ],
    )
    write("memory", result)
    return result


def _measure(projects: int, *, history: bool) -> tuple[int, int]:
    """Bytes held by the engine and its snapshot, then by the renderer's cache."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    engine = engine_with(projects, history=history)
    snapshot = engine.snapshot()
    gc.collect()
    after = tracemalloc.take_snapshot()
    used = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    renderer = Renderer()
    renderer.render(snapshot)  # the body itself is transient; the per-project cache stays
    gc.collect()
    rendered = tracemalloc.take_snapshot()
    cache = sum(stat.size_diff for stat in rendered.compare_to(after, "filename"))
    tracemalloc.stop()
    assert engine.project_count == projects
    assert all(len(p.history) == (12 if history else 0) for p in snapshot.projects)
    return used, cache


def remembered_run_bytes(events: int = 100_000) -> float:
    """What remembering one run for its review costs: the memory of an engine after
    `events` run events with UUID ids (what the SDK sends) to one project, less that after
    as many cost events (the same seen digest each, no run to remember), per event."""
    run = RunFinished(project="p", automation="a", outcome="succeeded",
                      manual_duration_s=900.0, human_effort_s=0.0, cost=0.0)  # fmt: skip
    cost = CostIncurred(project="p", amount=1.0, category="other")
    with_runs = _engine_bytes(EventType.RUN_FINISHED, run, events)
    without = _engine_bytes(EventType.COST_INCURRED, cost, events)
    return (with_runs - without) / events


def _engine_bytes(kind: EventType, data: EventData, count: int) -> int:
    engine = Engine(EngineSettings(), lambda: NOW)
    events = [OutcomeEvent(str(uuid.uuid4()), "bench", kind, NOW, data) for _ in range(count)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    at = engine.instant()
    for event in events:
        engine.apply(event, 0, at)
    engine.take_changes()  # written to the store with the batch, then dropped
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


if __name__ == "__main__":
    main()
