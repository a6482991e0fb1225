"""Freshness: at a fixed produce rate, time from produce to the value visible on /metrics.

The collector runs as its own process (as deployed); this process produces at the
fixed rate and a watcher thread reads the events counter on /metrics every 20 ms (that
counter only: `?name[]=`), so a delay includes up to 20 ms of sampling. Every series of
a snapshot becomes visible at once; what a whole scrape of the portfolio costs on top
is reported beside (`full_scrape`).
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from kafka import KafkaProducer

from bench.common import (
    events_counted,
    full_scrape,
    preload,
    realistic_records,
    table,
    write,
)
from collector.embedded import EmbeddedBroker, free_port
from schemas.binding import KafkaRecord
from tests.support.processes import start_collect_process

SAMPLE_S = 0.02


def main(rate: int = 1000, seconds: int = 20) -> dict[str, float]:
    count = rate * seconds
    records = realistic_records(count, seed=9)
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as directory:
        topic = f"fresh-{uuid.uuid4().hex[:6]}"
        broker.create_topics({topic: 6, f"{topic}.dlq": 1})
        port = free_port()
        state = str(Path(directory) / "s.db")
        process = start_collect_process(broker, topic, topic, state, port, workers="auto")
        try:
            # ready (serving) comes before the group join with SQLite: wait until a
            # warm-up event is applied, i.e. the partitions are assigned
            preload(broker.bootstrap_servers, topic, realistic_records(1, seed=8))
            deadline = time.monotonic() + 60
            while events_counted(port) < 1:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the collector did not start consuming")
                time.sleep(0.1)
            delays = measure(broker.bootstrap_servers, topic, port, records, rate)
            scrapes = sorted(full_scrape(port) for _ in range(5))
        finally:
            process.terminate()
            process.wait(timeout=30)
    p50 = statistics.median(delays)
    p99 = delays[int(len(delays) * 0.99) - 1]
    scrape_s, scrape_bytes = scrapes[len(scrapes) // 2]
    result = {
        "rate_per_s": rate,
        "events": count,
        "p50_s": p50,
        "p99_s": p99,
        "max_s": delays[-1],
        "full_scrape_s": scrape_s,
        "full_scrape_bytes": scrape_bytes,
    }
    table(
        f"freshness at {rate:,} events/s ({count:,} events)",
        [
            ("p50 produce -> visible on /metrics", f"{p50 * 1000:.0f} ms"),
            ("p99", f"{p99 * 1000:.0f} ms"),
            ("max", f"{delays[-1] * 1000:.0f} ms"),
            (
                f"a whole scrape (gzip), {scrape_bytes / 1e6:.1f} MB of text",
                f"{scrape_s * 1000:.0f} ms",
            ),
        ],
    )
    write("freshness", result)
    return result


def measure(
    bootstrap: str, topic: str, port: int, records: list[KafkaRecord], rate: int
) -> list[float]:
    sent: list[float] = []
    visible: list[float] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() or len(visible) < len(sent):
            counted = events_counted(port) - 1  # the warm-up event
            now = time.perf_counter()
            while len(visible) < min(counted, len(sent)):
                visible.append(now)
            time.sleep(SAMPLE_S)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks=1)
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
    return sorted(v - s for s, v in zip(sent, visible, strict=False))


if __name__ == "__main__":
    main()
