"""Restart to ready with a year of closed periods for 1,000 projects.

Measures the state load in-process, then a collector process started on that state:
to `/readyz` 200 (stored values served) and to its partitions being assigned.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    events_counted,
    preload,
    realistic_records,
    table,
    write,
)
from collector.embedded import EmbeddedBroker, free_port
from collector.engine.aggregates import LifetimeCounters, PeriodTotals
from collector.engine.engine import Engine
from collector.engine.settings import EngineSettings
from collector.state.model import PeriodRow, ProjectRow, StateChanges
from collector.state.sqlite import SqliteStore
from tests.support.live import http_get
from tests.support.processes import start_collect_process

PARTITIONS = 6


def seed_state(path: Path, projects: int, months: int) -> None:
    store = SqliteStore(path)
    totals = PeriodTotals()
    totals.runs.update(succeeded=400, failed=12)
    totals.manual_succeeded_us, totals.cost_n["run"] = 400 * 900 * 10**6, 40 * 10**9
    counters = LifetimeCounters().to_json()
    rows, periods = [], []
    for i in range(projects):
        name = f"p{i:05d}"
        rows.append(ProjectRow(name, i % PARTITIONS, counters))
        for m in range(months):
            year, month = 2025 + (m + 11) // 12, (m + 11) % 12 + 1
            periods.append(
                PeriodRow(name, f"{year}-{month:02d}", "month", 0.0, 0.0, totals.to_json())
            )
    store.commit(StateChanges(projects=tuple(rows), periods=tuple(periods)), {}, {})
    store.close()


def main(projects: int = 1000, months: int = 12) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory, EmbeddedBroker() as broker:
        path = Path(directory) / "state.db"
        seed_state(path, projects, months)
        started = time.perf_counter()
        store = SqliteStore(path)
        engine = Engine(EngineSettings(), lambda: datetime.now(UTC))
        engine.adopt(store.load("events", list(range(PARTITIONS))), range(PARTITIONS))
        engine.snapshot()
        load_s = time.perf_counter() - started
        store.close()
        topic = f"restart-{uuid.uuid4().hex[:6]}"
        broker.create_topics({topic: PARTITIONS, f"{topic}.dlq": 1})
        preload(broker.bootstrap_servers, topic, realistic_records(1))
        port = free_port()
        started = time.perf_counter()
        process = start_collect_process(broker, topic, topic, str(path), port, workers="auto")
        try:
            ready_s = _until(lambda: http_get(f"http://127.0.0.1:{port}/readyz")[0] == 200)
            ready_s -= started
            metrics = http_get(f"http://127.0.0.1:{port}/metrics")[1]
            assert f'project="p{projects - 1:05d}"' in metrics, "ready without the stored state"
            # /metrics is 4.7 MB here: polled gently, so the poller does not starve the
            # collector's group join of CPU
            assigned_s = _until(lambda: events_counted(port) > 0, every_s=0.1) - started
        finally:
            process.terminate()
            process.wait(timeout=30)
    result = {
        "projects": projects,
        "closed_periods": projects * months,
        "load_s": load_s,
        "ready_s": ready_s,
        "assigned_s": assigned_s,
    }
    table(
        f"restart with {projects:,} projects x {months} closed months",
        [
            ("state load + first snapshot", f"{load_s:.2f} s"),
            ("process start to /readyz 200, stored values on /metrics", f"{ready_s:.2f} s"),
            ("process start to first new event applied (group join)", f"{assigned_s:.2f} s"),
        ],
    )
    write("restart", result)
    return result


def _until(condition: Callable[[], bool], every_s: float = 0.01, timeout_s: float = 60.0) -> float:
    """perf_counter() when `condition` first holds (polled every `every_s`)."""
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the collector did not get there")
        time.sleep(every_s)
    return time.perf_counter()


if __name__ == "__main__":
    main()
