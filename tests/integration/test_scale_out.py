"""Three collectors in one group sharing PostgreSQL state; random kill -9s while events
flow. At the end the sum over instances of every counter and period gauge equals what
the distinct events imply, no project is exported twice for longer than a rebalance, and
every instance is ready holding its share of the partitions. With one pipeline each (either
Kafka client) and at the defaults (`workers: auto`, one worker per CPU: six consumers)."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import pytest

from collector.embedded import free_port
from tests.support.brokers import Broker
from tests.support.expected import expected_totals, mismatches
from tests.support.generate import mixed_stream
from tests.support.live import Series, http_get, parse_series, produce, total, wait_until
from tests.support.processes import start_collect_process

INSTANCES, KILLS = 3, 10
DISTINCT, DUPLICATES, BAD = 6000, 600, 40
REBALANCE_S = 20.0  # 6 s session timeout: a replacement gets partitions in ~11 s
ZOMBIE_S = 15.0  # a frozen instance, well past the 6 s session timeout


def start(
    broker: Broker, topic: str, dsn: str, port: int, log: Path, source: str, workers: str
) -> subprocess.Popen[bytes]:
    return start_collect_process(
        broker,
        topic,
        f"{topic}-scale",
        dsn,
        port,
        log,
        max_poll_records="100",
        publish_interval_s="0.1",
        source=source,
        workers=workers,
    )


def scrape_all(ports: list[int]) -> list[Series]:
    found = []
    for port in ports:
        status, text = http_get(f"http://127.0.0.1:{port}/metrics")
        found.append(parse_series(text) if status == 200 else {})
    return found


def merged(instances: list[Series]) -> Series:
    total_series: Series = defaultdict(float)
    for series in instances:
        for key, value in series.items():
            total_series[key] += value
    return dict(total_series)


def exporters_of(instances: list[Series]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for series in instances:
        for name in {
            dict(labels)["project"] for (n, labels) in series if n == "outcomes_project_info"
        }:
            counts[name] += 1
    return counts


class DoubleExportWatch(threading.Thread):
    """Records, per project, the longest time it was exported by two instances at once,
    and — for the failure message — what happened meanwhile: the test's kills and signals
    (`said`) and, once a project has been doubled for `LOOK_S`, what each instance holds."""

    LOOK_S = 10.0

    def __init__(self, ports: list[int]) -> None:
        super().__init__(daemon=True)
        self.ports = ports
        self.longest_s: dict[str, float] = defaultdict(float)
        self._since: dict[str, float] = {}
        self.stop = threading.Event()
        self.started = time.monotonic()
        self.timeline: list[str] = []

    def said(self, what: str) -> None:
        self.timeline.append(f"{time.monotonic() - self.started:6.1f} s {what}")

    def run(self) -> None:
        while not self.stop.wait(0.5):
            now = time.monotonic()
            instances = scrape_all(self.ports)
            doubled = {p for p, n in exporters_of(instances).items() if n > 1}
            for project in doubled:
                since = self._since.setdefault(project, now)
                if now - since >= self.LOOK_S > self.longest_s[project]:
                    self.said(f"{project} doubled since {since - self.started:.1f} s: "
                              + "; ".join(_held(port, series) for port, series
                                          in zip(self.ports, instances, strict=True)))  # fmt: skip
                self.longest_s[project] = max(self.longest_s[project], now - since)
            for project in set(self._since) - doubled:
                del self._since[project]


def _held(port: int, series: Series) -> str:
    projects = sorted(dict(labels)["project"] for (n, labels) in series
                      if n == "outcomes_project_info")  # fmt: skip
    held = total(series, "outcomes_collector_partitions_held") if series else None
    return f":{port} holds {held} partitions, exports {','.join(projects) or '-'}"


@pytest.mark.parametrize(
    ("source", "workers"),
    [("kafka-python", "1"), ("confluent", "1"), ("kafka-python", "auto")],
    ids=["kafka-python", "confluent", "defaults"],
)
def test_three_collectors_survive_ten_kills_and_a_zombie_with_exact_totals(
    broker: Broker, topic: str, postgres_dsn: str, tmp_path: Path, source: str, workers: str
) -> None:
    partitions = 3
    if workers == "auto":  # six consumers: a partition each (more would leave some idle)
        topic, partitions = f"{topic}-wide", 6
        broker.create_topics({topic: partitions, f"{topic}.dlq": 1})
    rng = random.Random(77)
    documents, records = mixed_stream(77, DISTINCT, DUPLICATES, BAD)
    ports = [free_port() for _ in range(INSTANCES)]
    log = tmp_path / "collectors.log"
    processes = [start(broker, topic, postgres_dsn, port, log, source, workers) for port in ports]
    watch = DoubleExportWatch(ports)
    done = threading.Event()

    def stream() -> None:
        chunk = max(1, len(records) // 120)
        for begin in range(0, len(records), chunk):
            produce(broker.bootstrap_servers, topic, records[begin : begin + chunk])
            time.sleep(1.0)
        done.set()

    producer = threading.Thread(target=stream, daemon=True)
    try:
        wait_until(
            lambda: all(http_get(f"http://127.0.0.1:{p}/healthz")[0] == 200 for p in ports),
            timeout_s=60,
        )
        producer.start()
        watch.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(3.0, 9.0))
            victim = rng.randrange(INSTANCES)
            watch.said(f"kill -9 :{ports[victim]}")
            processes[victim].send_signal(signal.SIGKILL)
            processes[victim].wait()
            processes[victim] = start(
                broker, topic, postgres_dsn, ports[victim], log, source, workers
            )
        # a zombie: frozen past its session timeout, its partitions move to the others; on
        # waking up it must not write over their state (fenced), and it rejoins
        frozen = rng.randrange(INSTANCES)
        zombie = processes[frozen]
        watch.said(f"SIGSTOP :{ports[frozen]}")
        zombie.send_signal(signal.SIGSTOP)
        time.sleep(ZOMBIE_S)
        zombie.send_signal(signal.SIGCONT)
        watch.said(f"SIGCONT :{ports[frozen]}")
        producer.join(timeout=300)
        assert done.is_set()

        state: dict[str, object] = {}

        def converged() -> list[Series] | None:
            instances = scrape_all(ports)
            counted = total(merged(instances), "outcomes_collector_events_total")
            doubled = sorted(p for p, n in exporters_of(instances).items() if n != 1)
            held = [total(i, "outcomes_collector_partitions_held") for i in instances]
            ready = [total(i, "outcomes_collector_ready") for i in instances]
            state.update(
                counted=counted, doubled=doubled[:10], held=held, ready=ready,
                answering=list(map(bool, instances)),
            )  # fmt: skip
            settled = sum(held) == partitions and all(ready)
            finished = counted >= len(records) and not doubled and all(instances)
            return instances if finished and settled else None

        try:
            instances = wait_until(converged, timeout_s=240, interval_s=1.0)
        except AssertionError as error:
            raise AssertionError(f"{error}: {state} of {len(records)}") from None
        time.sleep(2)  # and it stays converged
        instances = wait_until(converged, timeout_s=60, interval_s=1.0)
    finally:
        watch.stop.set()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)

    series = merged(instances)
    assert total(series, "outcomes_collector_events_total", result="accepted") == DISTINCT
    assert total(series, "outcomes_collector_events_total", result="duplicate") == DUPLICATES
    assert total(series, "outcomes_collector_rejected_total", reason="malformed") == BAD
    problems = mismatches(series, expected_totals(documents), Fraction(100))
    assert problems == [], log.read_text()[-3000:]
    assert set(exporters_of(instances)) == {d["data"]["project"] for d in documents}
    assert max(watch.longest_s.values(), default=0.0) <= REBALANCE_S, (
        f"{dict(watch.longest_s)}\n" + "\n".join(watch.timeline)
    )
