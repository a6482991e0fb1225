"""Resident memory per project (engine state + cached snapshot), by tracemalloc."""

from __future__ import annotations

import gc
import tracemalloc

from bench.common import table, write
from bench.render import engine_with


def main(projects: int = 10_000) -> dict[str, float]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    engine = engine_with(projects)
    engine.snapshot()
    gc.collect()
    after = tracemalloc.take_snapshot()
    used = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    tracemalloc.stop()
    result = {"projects": projects, "bytes": used, "bytes_per_project": used / projects}
    table(
        "memory",
        [
            (f"{projects:,} projects (4 events, 5 targets each)", f"{used / 1e6:.1f} MB"),
            ("per project", f"{used / projects / 1024:.1f} KiB"),
        ],
    )
    write("memory", result)
    assert engine.project_count == projects
    return result


if __name__ == "__main__":
    main()
