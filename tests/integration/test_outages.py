"""Dependencies go away and come back: the collector retries with backoff, /readyz says
why it is not ready meanwhile, /healthz stays up, and nothing is lost or doubled."""

from __future__ import annotations

import errno
import os
import random
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from collector.app import CollectorApp
from tests.integration.conftest import collector_settings
from tests.support.brokers import Broker
from tests.support.generate import random_document, to_record
from tests.support.live import Series, http_get, produce, scrape, total, wait_until
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
    # the batch retried after the lock is stored whole: a restart reads what was counted
    series = scrape(app.metrics_url)
    app.stop()
    again = start_collector()
    wait_until(lambda: accepted(again) >= 200, timeout_s=60)
    assert stored(scrape(again.metrics_url)) == stored(series)


@contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path` (a real file system that fills up: ENOSPC)."""
    path.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]
    result = subprocess.run(mount, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"a full disk needs a small tmpfs (run as root): {result.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(descriptor, bytes(4096))
    except OSError as error:
        assert error.errno == errno.ENOSPC, error
    finally:
        os.close(descriptor)
    return filler


def test_sqlite_on_a_full_disk_keeps_the_batch_until_space_returns(
    broker: Broker, topic: str, tmp_path: Path
) -> None:
    """At the defaults (workers: auto, SQLite): a disk that fills up mid-stream makes the
    collector not ready naming the store, it stays up and shows no batch it could not
    store; once space returns every event is counted once, and a restart reads the same."""
    with small_disk(tmp_path / "disk", "8m") as disk:
        settings = collector_settings(broker, topic, disk / "state.db", workers="auto")
        app = CollectorApp(settings)
        app.start()
        try:
            wait_until(lambda: readiness(app)[0] == 200, timeout_s=60)
            produce(broker.bootstrap_servers, topic, batch(6, 200))  # type: ignore[arg-type]
            wait_until(lambda: accepted(app) >= 200)
            filler = fill(disk)
            produce(broker.bootstrap_servers, topic, batch(7, 300))  # type: ignore[arg-type]
            body = wait_until(not_ready_because(app, "full"), timeout_s=60)
            assert "state store" in body and healthy(app), body
            time.sleep(3)  # retrying with backoff, the applied batch not on /metrics
            assert accepted(app) == 200
            assert not_ready_because(app, "full")() is not None
            filler.unlink()
            wait_until(lambda: readiness(app)[0] == 200 and accepted(app) >= 500, timeout_s=90)
            time.sleep(2)
            series = scrape(app.metrics_url)
        finally:
            app.stop()
        assert total(series, "outcomes_collector_events_total", result="accepted") == 500
        assert total(series, "outcomes_collector_events_total", result="duplicate") == 0
        again = CollectorApp(settings)  # what was stored is what was counted
        again.start()
        try:
            wait_until(lambda: accepted(again) >= 500, timeout_s=60)
            assert stored(scrape(again.metrics_url)) == stored(series)
        finally:
            again.stop()


PROCESS_LOCAL = (
    "outcomes_collector_event_delay_seconds",
    "outcomes_collector_partitions",
    "outcomes_collector_consumer_lag",
)
"""Families of the running process (since its start, its consumers), not of the state."""


def stored(series: Series) -> Series:
    """The series a restart must read back from the state store."""
    return {
        (name, labels): value
        for (name, labels), value in series.items()
        if not name.startswith(PROCESS_LOCAL) and name != "outcomes_collector_ready"
    }


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


OUTAGE_S = 60.0 if os.environ.get("OUTCOMES_DEEP") else 20.0
"""How long the database stays away under three collectors (`make test-deep`: a minute)."""


def test_three_collectors_ride_out_a_database_outage_with_exact_totals(
    broker: Broker, topic: str, tmp_path: Path, postgres_dsn: str
) -> None:
    """Three collectors at the defaults (two workers each, six partitions) on one
    PostgreSQL, events flowing; the database unreachable for OUTAGE_S: the instances with
    work say so on /readyz and all stay up (no crash loop); afterwards the sum over
    instances of every counter and period gauge is exact, and a restart of all three reads
    the same from the database."""
    from fractions import Fraction

    from collector.embedded import free_port
    from tests.integration.test_scale_out import exporters_of, merged, scrape_all
    from tests.support.expected import expected_totals, mismatches
    from tests.support.generate import mixed_stream
    from tests.support.processes import start_collect_process

    topic = f"{topic}-wide"
    broker.create_topics({topic: 6, f"{topic}.dlq": 1})
    documents, records = mixed_stream(31, 2400, 240, 24)
    proxy = CuttableProxy(port_of(postgres_dsn))
    dsn = postgres_dsn.replace(f":{port_of(postgres_dsn)}/", f":{proxy.port}/")
    ports, log = [free_port() for _ in range(3)], tmp_path / "collectors.log"

    def start(port: int) -> subprocess.Popen[bytes]:
        return start_collect_process(broker, topic, f"{topic}-db", dsn, port, log, workers="auto",
                                     max_poll_records="100", publish_interval_s="0.1")  # fmt: skip

    def converged() -> list[Series] | None:
        instances = scrape_all(ports)
        counted = total(merged(instances), "outcomes_collector_events_total")
        single = all(n == 1 for n in exporters_of(instances).values())
        return instances if counted >= len(records) and single and all(instances) else None

    processes = [start(port) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        wait_until(lambda: all(http_get(f"{u}/readyz")[0] == 200 for u in urls), timeout_s=90)
        half = len(records) // 2
        produce(broker.bootstrap_servers, topic, records[:half])
        wait_until(lambda: total(merged(scrape_all(ports)), "outcomes_collector_events_total")
                   >= half // 2, timeout_s=60)  # fmt: skip
        proxy.cut()
        cut_at = time.monotonic()
        produce(broker.bootstrap_servers, topic, records[half:])
        wait_until(lambda: any("state store" in http_get(f"{u}/readyz")[1] for u in urls),
                   timeout_s=60)  # fmt: skip
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - cut_at)))
        assert [p.poll() for p in processes] == [None] * 3  # all up, none restarted
        assert all(http_get(f"{u}/healthz")[0] == 200 for u in urls)
        proxy.restore()
        instances = wait_until(converged, timeout_s=180, interval_s=1.0)
        wait_until(lambda: all(http_get(f"{u}/readyz")[0] == 200 for u in urls), timeout_s=60)
        for process in processes:  # and what the database holds is what was counted
            process.terminate()
        assert [process.wait(timeout=30) for process in processes] == [0, 0, 0]
        processes = [start(port) for port in ports]
        restarted = wait_until(converged, timeout_s=180, interval_s=1.0)
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
    assert stored(merged(restarted)) == stored(series)
