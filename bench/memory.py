"""Resident memory per project, by tracemalloc: engine state + cached snapshot, and
the /metrics text cached per project by the renderer."""

from __future__ import annotations

import gc
import tracemalloc

from bench.common import table, write
from bench.render import engine_with
from exporters.prometheus import Renderer


def main(projects: int = 10_000) -> dict[str, float]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    engine = engine_with(projects)
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
    result = {
        "projects": projects,
        "bytes": used,
        "bytes_per_project": used / projects,
        "render_cache_bytes_per_project": cache / projects,
    }
    table(
        "memory",
        [
            (f"{projects:,} projects (4 events, 5 targets each)", f"{used / 1e6:.1f} MB"),
            ("per project: engine state and snapshot", f"{used / projects / 1024:.1f} KiB"),
            ("per project: cached /metrics text", f"{cache / projects / 1024:.1f} KiB"),
        ],
    )
    write("memory", result)
    assert engine.project_count == projects
    return result


if __name__ == "__main__":
    main()
