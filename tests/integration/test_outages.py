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
    # the defaults a user gets (one worker per CPU): a frozen broker expires every
    # worker's membership at once, and they all rejoin when it thaws
    app = CollectorApp(collector_settings(broker, topic, tmp_path / "state.db", workers="auto"))
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
        # the thawed group rebalances (the old memberships expired): ready again with
        # every event counted once, and it stays so
        wait_until(lambda: readiness(app)[0] == 200 and accepted(app) >= 200, timeout_s=180)
        time.sleep(5)
        assert readiness(app)[0] == 200
        assert accepted(app) == 200
    finally:
        app.stop()


def test_three_collectors_ride_out_a_database_outage_with_exact_totals(
    broker: Broker, topic: str, tmp_path: Path, postgres_dsn: str
) -> None:
    """Three collectors on one PostgreSQL, events flowing; the database unreachable for
    20 s: every instance says so on /readyz and stays up (no crash loop); afterwards the
    sum over instances of every counter and period gauge is exact."""
    from fractions import Fraction

    from collector.embedded import free_port
    from tests.integration.test_scale_out import exporters_of, merged, scrape_all
    from tests.support.expected import expected_totals, mismatches
    from tests.support.generate import mixed_stream
    from tests.support.processes import start_collect_process

    documents, records = mixed_stream(31, 2400, 240, 24)
    proxy = CuttableProxy(port_of(postgres_dsn))
    dsn = postgres_dsn.replace(f":{port_of(postgres_dsn)}/", f":{proxy.port}/")
    ports, log = [free_port() for _ in range(3)], tmp_path / "collectors.log"
    processes = [
        start_collect_process(broker, topic, f"{topic}-db", dsn, port, log,
                              max_poll_records="100", publish_interval_s="0.1")
        for port in ports
    ]  # fmt: skip
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        wait_until(lambda: all(http_get(f"{u}/readyz")[0] == 200 for u in urls), timeout_s=90)
        half = len(records) // 2
        produce(broker.bootstrap_servers, topic, records[:half])
        wait_until(lambda: total(merged(scrape_all(ports)), "outcomes_collector_events_total")
                   >= half // 2, timeout_s=60)  # fmt: skip
        proxy.cut()
        produce(broker.bootstrap_servers, topic, records[half:])
        for url in urls:
            wait_until(lambda u=url: "state store" in http_get(f"{u}/readyz")[1]  # type: ignore[misc]
                       and http_get(f"{u}/readyz")[0] == 503, timeout_s=60)  # fmt: skip
        time.sleep(20)
        assert [p.poll() for p in processes] == [None] * 3  # all up, none restarted
        assert all(http_get(f"{u}/healthz")[0] == 200 for u in urls)
        proxy.restore()

        def converged() -> list[dict] | None:  # type: ignore[type-arg]
            instances = scrape_all(ports)
            counted = total(merged(instances), "outcomes_collector_events_total")
            single = all(n == 1 for n in exporters_of(instances).values())
            return instances if counted >= len(records) and single else None

        instances = wait_until(converged, timeout_s=180, interval_s=1.0)
        assert all(http_get(f"{u}/readyz")[0] == 200 for u in urls)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        proxy.close()
    series = merged(instances)
    assert total(series, "outcomes_collector_events_total", result="accepted") == 2400
    assert total(series, "outcomes_collector_events_total", result="duplicate") == 240
    assert total(series, "outcomes_collector_rejected_total", reason="malformed") == 24
    assert mismatches(series, expected_totals(documents), Fraction(100)) == [], log.read_text()[
        -3000:
    ]
    assert [p.returncode for p in processes] == [0, 0, 0]
