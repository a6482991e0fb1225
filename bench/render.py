"""/metrics render time and size for 100, 1k and 10k projects (µs per series)."""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import table, write
from collector.declarations.registry import DeclarationRegistry
from collector.engine.engine import Engine
from collector.engine.settings import EngineSettings
from exporters.prometheus import Renderer
from outcomes.sdk.events import new_event
from schemas.events import EventType
from schemas.snapshot import Snapshot

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
DECLARATION = """\
apiVersion: outcomes/v1
kind: Project
metadata: {{name: {name}, labels: {{team: team-{team}}}}}
spec:
  owner: owner-{team}
  budget: 100000
  services: [api]
  objectives: {{uptime: 0.999, savings: 2000, timeSavedHours: 40, roi: 0.5, successRate: 0.9}}
"""


def engine_with(projects: int, history: bool = False) -> Engine:
    """`projects` declared projects with four events each now; `history`: and one run a year
    ago (a history import), so each has its 12 closed months on /metrics."""
    directory = Path(tempfile.mkdtemp())
    (directory / "projects.yaml").write_text(
        "---\n".join(DECLARATION.format(name=f"p{i:05d}", team=i % 20) for i in range(projects))
    )
    catalog = DeclarationRegistry(directory).reload().catalog
    engine = Engine(EngineSettings(), lambda: NOW, catalog)
    for i in range(projects):
        name = f"p{i:05d}"
        for n, automation in enumerate(("deploy", "rollback", "verify")):
            data = {
                "project": name,
                "automation": automation,
                "outcome": "succeeded",
                "duration_s": 1.0,
                "manual_duration_s": 600.0,
                "human_effort_s": 0.0,
                "cost": 0.1,
            }
            engine.apply(
                new_event(EventType.RUN_FINISHED, "b", data, event_id=f"{name}-{n}", time=NOW), 0
            )
        saving = {"project": name, "amount": 5.0, "category": "cloud", "basis": "b"}
        event = new_event(EventType.SAVINGS_REALIZED, "b", saving, event_id=f"{name}-s", time=NOW)
        engine.apply(event, 0)
        if history:
            data = {"project": name, "automation": "deploy", "outcome": "succeeded",
                    "duration_s": 1.0, "manual_duration_s": 600.0, "human_effort_s": 0.0,
                    "cost": 0.1}  # fmt: skip
            old = new_event(EventType.RUN_FINISHED, "b", data, event_id=f"{name}-h",
                            time=NOW - timedelta(days=365))  # fmt: skip
            engine.apply(old._replace(backfill=True), 0)
    return engine


def measure(projects: int, rounds: int = 5) -> dict[str, float]:
    """Cold: a fresh renderer (every project formatted, as after a change to all of
    them); warm: the next scrape with 1% of the projects changed."""
    engine = engine_with(projects)
    snapshot = engine.snapshot()
    cold, warm = [], []
    body = b""
    for _ in range(rounds):
        renderer = Renderer()
        started = time.perf_counter()
        body = renderer.render(snapshot)
        cold.append(time.perf_counter() - started)
        changed = _with_changes(snapshot, every=100)
        started = time.perf_counter()
        renderer.render(changed)
        warm.append(time.perf_counter() - started)
    series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    return {
        "projects": projects,
        "series": series,
        "bytes": len(body),
        "render_s": min(cold),
        "median_render_s": statistics.median(cold),
        "us_per_series": min(cold) / series * 1e6,
        "warm_render_s": min(warm),
        "warm_us_per_series": min(warm) / series * 1e6,
    }


def _with_changes(snapshot: Snapshot, every: int) -> Snapshot:
    projects = tuple(
        replace(p, lifetime_value=p.lifetime_value + 1) if i % every == 0 else p
        for i, p in enumerate(snapshot.projects)
    )
    return replace(snapshot, projects=projects)


def main(sizes: tuple[int, ...] = (100, 1000, 10000)) -> list[dict[str, float]]:
    results = [measure(size) for size in sizes]
    table(
        "/metrics render (best of 5)",
        [
            (
                f"{int(r['projects']):>6} projects",
                f"{int(r['series']):>8,} series  {r['bytes'] / 1e6:6.1f} MB"
                f"  cold {r['render_s'] * 1000:7.1f} ms {r['us_per_series']:5.2f} µs/series"
                f"  warm (1% changed) {r['warm_render_s'] * 1000:6.1f} ms"
                f" {r['warm_us_per_series']:5.2f} µs/series",
            )
            for r in results
        ],
    )
    write("render", {"results": results})
    return results


if __name__ == "__main__":
    main()
