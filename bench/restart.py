"""Restart to ready with a year of closed periods for 1,000 projects."""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from bench.common import table, write
from collector.app import CollectorApp
from collector.config import Settings
from collector.embedded import EmbeddedBroker
from collector.engine.aggregates import LifetimeCounters, PeriodTotals
from collector.engine.engine import Engine, EngineSettings
from collector.state.model import PeriodRow, ProjectRow, StateChanges
from collector.state.sqlite import SqliteStore
from tests.support.live import http_get

PARTITIONS = 6


def seed_state(path: Path, projects: int, months: int) -> None:
    store = SqliteStore(path)
    totals = PeriodTotals()
    totals.runs.update(succeeded=400, failed=12)
    totals.manual_succeeded_us, totals.cost_u["run"] = 400 * 900 * 10**6, 40 * 10**6
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
        engine = Engine(
            EngineSettings(),
            lambda: __import__("datetime").datetime.now(__import__("datetime").UTC),
        )
        engine.adopt(store.load("events", list(range(PARTITIONS))), range(PARTITIONS))
        engine.snapshot()
        load_s = time.perf_counter() - started
        store.close()
        topic = f"restart-{uuid.uuid4().hex[:6]}"
        broker.create_topics({topic: PARTITIONS, f"{topic}.dlq": 1})
        started = time.perf_counter()
        app = CollectorApp(
            Settings(
                bootstrap_servers=broker.bootstrap_servers,
                topic=topic,
                group_id=topic,
                state=str(path),
                listen="127.0.0.1:0",
                session_timeout_ms=6000,
                heartbeat_interval_ms=1000,
            )
        )
        app.start()
        base = app.metrics_url.removesuffix("/metrics")
        while http_get(f"{base}/readyz")[0] != 200:
            time.sleep(0.02)
        ready_s = time.perf_counter() - started
        app.stop()
    result = {
        "projects": projects,
        "closed_periods": projects * months,
        "load_s": load_s,
        "ready_s": ready_s,
    }
    table(
        f"restart with {projects:,} projects x {months} closed months",
        [
            ("state load + first snapshot", f"{load_s:.2f} s"),
            ("process start to /readyz 200 (incl. group join)", f"{ready_s:.2f} s"),
        ],
    )
    write("restart", result)
    return result


if __name__ == "__main__":
    main()
