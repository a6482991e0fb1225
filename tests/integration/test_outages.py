"""Dependencies go away and come back: the collector retries with backoff, /readyz says
why it is not ready meanwhile, /healthz stays up, and nothing is lost or doubled."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from collector.app import CollectorApp
from tests.integration.conftest import collector_settings
from tests.support.brokers import Broker
from tests.support.generate import random_document, to_record
from tests.support.live import http_get, produce, scrape, total, wait_until
from tests.support.postgres import port_of
from tests.support.proxy import CuttableProxy


def readiness(app: CollectorApp) -> tuple[int, str]:
    return http_get(app.metrics_url.removesuffix("/metrics") + "/readyz")


def not_ready_because(app: CollectorApp, word: str) -> Callable[[], str | None]:
    def check() -> str | None:
        status, body = readiness(app)
        return body if status == 503 and word in body else None

    return check


def healthy(app: CollectorApp) -> bool:
    return http_get(app.metrics_url.removesuffix("/metrics") + "/healthz")[0] == 200


def accepted(app: CollectorApp) -> float:
    return total(scrape(app.metrics_url), "outcomes_collector_events_total", result="accepted")


def batch(seed: int, count: int) -> list[object]:
    rng = random.Random(seed)
    return [to_record(random_document(rng, seed * 100_000 + i), rng) for i in range(count)]


def test_sqlite_locked_then_released(
    broker: Broker, topic: str, tmp_path: Path, start_collector: Callable[..., CollectorApp]
) -> None:
    app = start_collector()
    wait_until(lambda: readiness(app)[0] == 200)
    blocker = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        produce(broker.bootstrap_servers, topic, batch(1, 200))  # type: ignore[arg-type]
        body = wait_until(not_ready_because(app, "state store"), timeout_s=30)
        assert "locked" in body and healthy(app)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    wait_until(lambda: accepted(app) >= 200, timeout_s=60)
    wait_until(lambda: readiness(app)[0] == 200)
    assert accepted(app) == 200


def test_postgres_unavailable_then_back(
    broker: Broker, topic: str, tmp_path: Path, postgres_dsn: str
) -> None:
    proxy = CuttableProxy(port_of(postgres_dsn))
    dsn = postgres_dsn.replace(f":{port_of(postgres_dsn)}/", f":{proxy.port}/")
    app = CollectorApp(collector_settings(broker, topic, dsn))
    app.start()
    try:
        wait_until(lambda: readiness(app)[0] == 200, timeout_s=60)
        produce(broker.bootstrap_servers, topic, batch(2, 100))  # type: ignore[arg-type]
        wait_until(lambda: accepted(app) >= 100)
        proxy.cut()
        produce(broker.bootstrap_servers, topic, batch(3, 150))  # type: ignore[arg-type]
        wait_until(not_ready_because(app, "state store"), timeout_s=60)
        assert healthy(app)
        time.sleep(3)  # it keeps retrying with backoff
        proxy.restore()
        wait_until(lambda: readiness(app)[0] == 200, timeout_s=60)
        wait_until(lambda: accepted(app) >= 250, timeout_s=60)
        assert accepted(app) == 250
    finally:
        app.stop()
        proxy.close()


def test_broker_unresponsive_for_a_minute(tmp_path: Path, own_broker: Callable[[], Broker]) -> None:
    broker = own_broker()
    topic = f"outage-{uuid.uuid4().hex[:8]}"
    broker.create_topics({topic: 3, f"{topic}.dlq": 1})
    app = CollectorApp(collector_settings(broker, topic, tmp_path / "state.db"))
    app.start()
    try:
        wait_until(lambda: readiness(app)[0] == 200, timeout_s=60)
        produce(broker.bootstrap_servers, topic, batch(4, 100))  # type: ignore[arg-type]
        wait_until(lambda: accepted(app) >= 100)
        assert broker.pid is not None
        os.kill(broker.pid, signal.SIGSTOP)
        paused_at = time.monotonic()
        try:
            wait_until(not_ready_because(app, "broker"), timeout_s=45)
            assert healthy(app)
            time.sleep(max(0.0, 60 - (time.monotonic() - paused_at)))  # a full minute
        finally:
            os.kill(broker.pid, signal.SIGCONT)
        produce(broker.bootstrap_servers, topic, batch(5, 100))  # type: ignore[arg-type]
        wait_until(lambda: accepted(app) >= 200, timeout_s=120)
        wait_until(lambda: readiness(app)[0] == 200, timeout_s=60)
        assert accepted(app) == 200
    finally:
        app.stop()
