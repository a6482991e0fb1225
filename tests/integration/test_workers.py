"""`outcomes collect --workers 2` (the default on two CPUs): two full pipelines in one
collector, one endpoint.

Events stream in while one worker is kill -9'd: the collector starts it again, every
counter and period gauge ends equal to what the distinct valid events imply, each project
is exported once, the collector's counters never fall on its one endpoint (a fall reads
as a counter reset to Prometheus), the exposition passes promtool, and SIGTERM stops the
workers cleanly. A collector restarted on its SQLite state serves the stored numbers
before its workers join (also when they cannot), and counts on from them."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from collector.embedded import free_port
from tests.support.brokers import Broker
from tests.support.expected import expected_totals, mismatches
from tests.support.generate import mixed_stream, random_document, to_record
from tests.support.live import http_get, parse_series, produce, total, wait_until
from tests.support.processes import start_collect_process

DISTINCT, DUPLICATES, BAD = 2000, 200, 20


def worker_pids(collector: int) -> set[int]:
    """The collector's worker processes (spawned children, not the resource tracker)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == collector and b"spawn_main" in command:
            found.add(int(stat.parent.name))
    return found


def workers_if(collector: int, wanted: Callable[[set[int]], bool]) -> set[int] | None:
    pids = worker_pids(collector)
    return pids if wanted(pids) else None


class FallWatch(threading.Thread):
    """Scrapes the endpoint every 0.2 s; records every fall of a collector counter."""

    COUNTERS = ("outcomes_collector_events_total", "outcomes_collector_event_delay_seconds_count")

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.falls: list[str] = []
        self.samples = 0
        self.stop = threading.Event()

    def run(self) -> None:
        last = dict.fromkeys(self.COUNTERS, 0.0)
        while not self.stop.wait(0.2):
            status, text = http_get(self.url)
            if status != 200:
                continue
            series = parse_series(text)
            self.samples += 1
            for name in self.COUNTERS:
                now = total(series, name)
                if now < last[name]:
                    self.falls.append(f"{name}: {last[name]} -> {now}")
                last[name] = max(last[name], now)


def test_two_workers_count_exactly_once_through_a_worker_kill(
    broker: Broker, tmp_path: Path
) -> None:
    topic = f"workers-{uuid.uuid4().hex[:10]}"
    broker.create_topics({topic: 6, f"{topic}.dlq": 1})
    documents, records = mixed_stream(4242, DISTINCT, DUPLICATES, BAD)
    port, log = free_port(), tmp_path / "collector.log"
    base = f"http://127.0.0.1:{port}"
    process = start_collect_process(
        broker,
        topic,
        f"{topic}-group",
        str(tmp_path / "state.db"),
        port,
        log,
        workers="2",
        max_poll_records="100",
        publish_interval_s="0.1",
    )
    watch = FallWatch(f"{base}/metrics")
    try:
        wait_until(lambda: http_get(f"{base}/readyz")[0] == 200, timeout_s=60)
        first = wait_until(lambda: workers_if(process.pid, lambda pids: len(pids) == 2))
        watch.start()
        done = threading.Event()

        def stream() -> None:
            for begin in range(0, len(records), 50):
                produce(broker.bootstrap_servers, topic, records[begin : begin + 50])
                time.sleep(0.15)
            done.set()

        producer = threading.Thread(target=stream, daemon=True)
        producer.start()
        time.sleep(2.5)
        victim = min(first)
        subprocess.run(["kill", "-9", str(victim)], check=True)
        replaced = wait_until(
            lambda: workers_if(process.pid, lambda pids: len(pids) == 2 and victim not in pids),
            timeout_s=60,
        )
        producer.join(timeout=120)
        assert done.is_set()

        def counted() -> str | None:
            status, text = http_get(f"{base}/metrics")
            series = parse_series(text) if status == 200 else {}
            ready = http_get(f"{base}/readyz")[0] == 200
            enough = total(series, "outcomes_collector_events_total") >= len(records)
            return text if enough and ready else None

        try:
            text = wait_until(counted, timeout_s=180, interval_s=0.5)
        except AssertionError as error:
            raise AssertionError(f"{error}; collector log:\n{log.read_text()[-6000:]}") from None
    finally:
        watch.stop.set()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)

    series = parse_series(text)
    assert total(series, "outcomes_collector_events_total", result="accepted") == DISTINCT
    assert total(series, "outcomes_collector_events_total", result="duplicate") == DUPLICATES
    assert total(series, "outcomes_collector_rejected_total", reason="malformed") == BAD
    assert mismatches(series, expected_totals(documents), Fraction(100)) == [], log.read_text()[
        -3000:
    ]
    info_lines = [line for line in text.splitlines() if line.startswith("outcomes_project_info{")]
    projects = {d["data"]["project"] for d in documents}
    assert len(info_lines) == len(projects), "each project exported once"
    assert watch.samples > 10 and watch.falls == [], watch.falls
    assert replaced.isdisjoint({victim})
    promtool = shutil.which("promtool")
    assert promtool, "promtool is required: install Debian's prometheus package (make test does)"
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout
    assert process.returncode == 0, log.read_text()[-3000:]
    assert worker_pids(process.pid) == set(), "the workers exit with the collector"


def test_a_restarted_collector_with_workers_serves_its_stored_numbers_before_they_join(
    broker: Broker, tmp_path: Path
) -> None:
    """One SQLite file: what was counted is on /metrics at once after a restart — also
    while the broker cannot be reached, when no worker can join — and counting goes on
    from there without a counter falling on the endpoint."""
    topic = f"stored-{uuid.uuid4().hex[:10]}"
    broker.create_topics({topic: 6, f"{topic}.dlq": 1})
    rng = random.Random(97)
    documents = [random_document(rng, index) for index in range(1200)]
    first, second = documents[:600], documents[600:]
    state, log = str(tmp_path / "state.db"), tmp_path / "collector.log"

    def start(bootstrap_servers: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        process = start_collect_process(
            broker, topic, f"{topic}-group", state, port, log, bootstrap_servers, workers="2"
        )
        return process, f"http://127.0.0.1:{port}"

    def accepted(base: str) -> float:
        status, text = http_get(f"{base}/metrics")
        series = parse_series(text) if status == 200 else {}
        return total(series, "outcomes_collector_events_total", result="accepted")

    def stop(process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log.read_text()[-3000:]

    produce(broker.bootstrap_servers, topic, [to_record(d, rng) for d in first])
    process, base = start()
    try:
        wait_until(lambda: accepted(base) == len(first), timeout_s=90)
    finally:
        stop(process)

    nowhere = f"127.0.0.1:{free_port()}"  # nothing listens there: no worker can join
    process, base = start(nowhere)
    try:
        stored = wait_until(lambda: scrape_if_served(base), timeout_s=30)
        assert mismatches(stored, expected_totals(first), Fraction(100)) == []
        status, body = wait_until(lambda: readyz_naming(base, "broker"), timeout_s=30)
        assert status == 503, body
    finally:
        stop(process)

    process, base = start()
    watch = FallWatch(f"{base}/metrics")
    watch.start()
    try:
        wait_until(lambda: http_get(f"{base}/readyz")[0] == 200, timeout_s=60)
        assert accepted(base) == len(first), "ready without the stored numbers"
        for begin in range(0, len(second), 50):  # paced: the watch sees counting go on
            produce(
                broker.bootstrap_servers,
                topic,
                [to_record(d, rng) for d in second[begin : begin + 50]],
            )
            time.sleep(0.1)
        wait_until(lambda: accepted(base) == len(documents), timeout_s=90)
        text = http_get(f"{base}/metrics")[1]
    finally:
        watch.stop.set()
        stop(process)
    assert mismatches(parse_series(text), expected_totals(documents), Fraction(100)) == []
    info_lines = [line for line in text.splitlines() if line.startswith("outcomes_project_info{")]
    assert len(info_lines) == len({d["data"]["project"] for d in documents})
    assert watch.samples > 5 and watch.falls == [], watch.falls


def scrape_if_served(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
    """The collector's series once /metrics serves any, else None."""
    status, text = http_get(f"{base}/metrics")
    return parse_series(text) if status == 200 and "outcomes_project_info{" in text else None


def readyz_naming(base: str, problem: str) -> tuple[int, str] | None:
    status, body = http_get(f"{base}/readyz")
    return (status, body) if problem in body else None
