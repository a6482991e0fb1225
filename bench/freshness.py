"""Freshness: at a fixed produce rate, time from produce to the value visible on /metrics."""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from kafka import KafkaProducer

from bench.common import realistic_records, table, write
from collector.app import CollectorApp
from collector.config import Settings
from collector.embedded import EmbeddedBroker
from tests.support.live import http_get, parse_series, total


def main(rate: int = 1000, seconds: int = 20) -> dict[str, float]:
    count = rate * seconds
    records = realistic_records(count, seed=9)
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as directory:
        topic = f"fresh-{uuid.uuid4().hex[:6]}"
        broker.create_topics({topic: 6, f"{topic}.dlq": 1})
        app = CollectorApp(
            Settings(
                bootstrap_servers=broker.bootstrap_servers,
                topic=topic,
                group_id=topic,
                state=str(Path(directory) / "s.db"),
                listen="127.0.0.1:0",
                session_timeout_ms=6000,
                heartbeat_interval_ms=1000,
            )
        )
        app.start()
        base = app.metrics_url.removesuffix("/metrics")
        while http_get(f"{base}/readyz")[0] != 200:
            time.sleep(0.1)
        sent: list[float] = []
        visible: list[float] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set() or len(visible) < len(sent):
                status, text = http_get(app.metrics_url)
                now = time.perf_counter()
                counted = (
                    int(total(parse_series(text), "outcomes_collector_events_total"))
                    if status == 200
                    else 0
                )
                while len(visible) < min(counted, len(sent)):
                    visible.append(now)
                time.sleep(0.05)  # a sampling watcher, not a load generator

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=0, acks=1)
        started = time.perf_counter()
        for index, record in enumerate(records):
            target = started + index / rate
            time.sleep(max(0.0, target - time.perf_counter()))
            sent.append(time.perf_counter())
            producer.send(topic, key=record.key, value=record.value, headers=record.headers)
        producer.flush()
        done.set()
        watcher.join(timeout=60)
        producer.close()
        app.stop()
    delays = sorted(v - s for s, v in zip(sent, visible, strict=False))
    p50 = statistics.median(delays)
    p99 = delays[int(len(delays) * 0.99) - 1]
    result = {"rate_per_s": rate, "events": count, "p50_s": p50, "p99_s": p99, "max_s": delays[-1]}
    table(
        f"freshness at {rate:,} events/s ({count:,} events)",
        [
            ("p50 produce -> visible on /metrics", f"{p50 * 1000:.0f} ms"),
            ("p99", f"{p99 * 1000:.0f} ms"),
            ("max", f"{delays[-1] * 1000:.0f} ms"),
        ],
    )
    write("freshness", result)
    return result


if __name__ == "__main__":
    main()
