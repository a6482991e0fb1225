"""The consumers the collector is measured against, on the same preloaded topic.

- a bare kafka-python consumer (the collector's client) that only counts records: with the
  library's defaults, and tuned for throughput (8 MiB per partition fetch, 64 MiB per
  fetch, 10,000 records per poll) — the anchor of the goals;
- a bare confluent-kafka consumer (librdkafka) that only counts records;
- Quix Streams applications (bench/quix_app.py, their own process and venv): the stream
  processor a Python team would pick for this job, with its defaults (RocksDB state,
  changelog topics): one keeping a per-project sum of the events' money (`sum`), and one
  doing the collector's work on each event (`collector`: the same decoder, duplicates
  dropped, per project and month sums).

Each returns records per second from its first record to its last.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer

TUNED: dict[str, Any] = {
    "max_partition_fetch_bytes": 8 * 1024 * 1024,
    "fetch_max_bytes": 64 * 1024 * 1024,
    "max_poll_records": 10_000,
}
"""kafka-python tuned for throughput (the issue's anchor)."""


def kafka_python_rate(bootstrap: str, topic: str, expected: int, *, tuned: bool) -> float:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bare-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        **(TUNED if tuned else {"max_poll_records": 2000}),
    )
    seen, first = 0, None
    while seen < expected:
        for batch in consumer.poll(timeout_ms=500).values():
            first = first or time.perf_counter()
            seen += len(batch)
    elapsed = time.perf_counter() - (first or time.perf_counter())
    consumer.close()
    return seen / elapsed


def confluent_rate(bootstrap: str, topic: str, expected: int) -> float:
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bare-ck-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen, first = 0, None
    while seen < expected:
        for message in consumer.consume(num_messages=10_000, timeout=0.5):
            if message.error() is None:
                first = first or time.perf_counter()
                seen += 1
    elapsed = time.perf_counter() - (first or time.perf_counter())
    consumer.close()
    return seen / elapsed


QUIX_PYTHON = Path(__file__).parents[1] / ".venv-peers" / "bin" / "python"
"""Quix Streams pins an older pydantic than the collector's, so it lives in its own venv
(`make bench` creates it); the app is a standalone script (bench/quix_app.py)."""


def quix_rate(bootstrap: str, topic: str, expected: int, work: str = "sum") -> float:
    """A Quix Streams app (`work`: `sum` or `collector`) in its own process and venv, with
    its defaults: RocksDB state backed up to changelog topics. Its state store needs the
    source topic's `retention.ms` from DescribeConfigs: Apache Kafka only (the embedded
    broker does not report it)."""
    python = str(QUIX_PYTHON) if QUIX_PYTHON.exists() else sys.executable
    script = Path(__file__).with_name("quix_app.py")
    result = subprocess.run(
        [python, str(script), bootstrap, topic, str(expected), work],
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"the Quix Streams app failed:\n{result.stderr[-2000:]}")
    return float(json.loads(result.stdout.strip().splitlines()[-1])["per_s"])
