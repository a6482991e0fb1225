"""kill -9 the collector process at random moments mid-stream; after restarts every
§6 counter and period gauge equals what the distinct valid events imply. With either Kafka
client (kafka-python, the default, and confluent-kafka)."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from fractions import Fraction
from pathlib import Path

import pytest

from collector.embedded import free_port
from schemas.binding import KafkaRecord
from tests.support.brokers import Broker
from tests.support.expected import expected_totals, mismatches
from tests.support.generate import mixed_stream
from tests.support.live import http_get, parse_series, produce, scrape, total, wait_until
from tests.support.processes import start_collect_process

DISTINCT, DUPLICATES, BAD = 3000, 300, 30


def start_collector(
    broker: Broker, topic: str, state: Path, port: int, log: Path, source: str, workers: str
) -> subprocess.Popen[bytes]:
    return start_collect_process(
        broker,
        topic,
        f"{topic}-crash",
        str(state),
        port,
        log,
        max_poll_records="40",
        publish_interval_s="0.05",
        source=source,
        workers=workers,
    )


def events_counted(url: str) -> float:
    status, text = http_get(url)
    return total(parse_series(text), "outcomes_collector_events_total") if status == 200 else 0


def held_and_ready(url: str) -> tuple[float, float, int]:
    """(outcomes_collector_partitions_held, outcomes_collector_ready, /readyz status)."""
    series = scrape(url)
    readyz = http_get(url.replace("/metrics", "/readyz"))[0]
    held = total(series, "outcomes_collector_partitions_held")
    return held, total(series, "outcomes_collector_ready"), readyz


def stream(broker: Broker, topic: str, records: list[KafkaRecord], done: threading.Event) -> None:
    for start in range(0, len(records), 50):
        produce(broker.bootstrap_servers, topic, records[start : start + 50])
        time.sleep(0.1)
    done.set()


@pytest.mark.parametrize(
    ("source", "workers"),
    [("kafka-python", "auto"), ("kafka-python", "1"), ("confluent", "1")],
    ids=["defaults", "one-pipeline", "confluent"],
)
def test_kill_9_mid_stream_loses_and_doubles_nothing(
    broker: Broker, topic: str, tmp_path: Path, source: str, workers: str
) -> None:
    """`defaults`: what a user runs (one worker per CPU, a fetcher and the collector
    process); the kill hits the collector process, as `kill -9 PID` does: its workers
    must go with it, and the restarted collector's workers must join and consume."""
    rng = random.Random(2026)
    documents, records = mixed_stream(2026, DISTINCT, DUPLICATES, BAD)
    port, state, log = free_port(), tmp_path / "state.db", tmp_path / "collector.log"
    url = f"http://127.0.0.1:{port}/metrics"

    done = threading.Event()
    producer = threading.Thread(target=stream, args=(broker, topic, records, done), daemon=True)
    process = start_collector(broker, topic, state, port, log, source, workers)
    producer.start()
    kills = 0
    try:
        while not done.is_set() or kills < 3:
            wait_until(lambda: http_get(url)[0] == 200, timeout_s=30)
            time.sleep(rng.uniform(1.0, 4.0))
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            process = start_collector(broker, topic, state, port, log, source, workers)
        producer.join()
        try:
            wait_until(lambda: events_counted(url) >= len(records), timeout_s=120)
            # and it says so: ready, holding every partition of the topic
            wait_until(lambda: held_and_ready(url) == (3, 1, 200), timeout_s=60)
        except AssertionError as error:
            raise AssertionError(f"{error}; collector log:\n{log.read_text()[-6000:]}") from None
        series = scrape(url)
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert kills >= 3
    assert total(series, "outcomes_collector_events_total", result="accepted") == DISTINCT
    assert total(series, "outcomes_collector_events_total", result="duplicate") == DUPLICATES
    assert total(series, "outcomes_collector_rejected_total", reason="malformed") == BAD
    assert mismatches(series, expected_totals(documents), Fraction(100)) == [], log.read_text()[
        -3000:
    ]
    assert process.returncode == 0, "SIGTERM must shut down cleanly"
