"""The consumers the collector is measured against, on the same preloaded topic.

- a bare kafka-python consumer (the collector's client) that only counts records: with the
  library's defaults, and tuned for throughput (8 MiB per partition fetch, 64 MiB per
  fetch, 10,000 records per poll) — the anchor of the goals;
- a bare confluent-kafka consumer (librdkafka) that only counts records;
- a Quix Streams application keeping a stateful per-project sum of the events' money
  (`python -m bench.peers quix …`, its own process): the stream processor a Python team
  would pick for this job, with its defaults (RocksDB state, changelog topics).

Each returns records per second from its first record to its last.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
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


def quix_rate(bootstrap: str, topic: str, expected: int, *, changelog: bool = True) -> float:
    """The Quix Streams app in its own process (it owns its signal handlers and loop),
    with its defaults: RocksDB state backed up to changelog topics (`changelog`). Its state
    store needs the source topic's `retention.ms` from DescribeConfigs: Apache Kafka only
    (the embedded broker does not report it)."""
    flags = [] if changelog else ["--no-changelog"]
    result = subprocess.run(
        [sys.executable, "-m", "bench.peers", "quix", bootstrap, topic, str(expected), *flags],
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"the Quix Streams app failed:\n{result.stderr[-2000:]}")
    return float(json.loads(result.stdout.strip().splitlines()[-1])["per_s"])


def _run_quix(bootstrap: str, topic_name: str, expected: int, changelog: bool) -> float:
    from quixstreams import Application, State

    with tempfile.TemporaryDirectory() as state_dir:
        app = Application(
            broker_address=bootstrap,
            consumer_group=f"quix-{uuid.uuid4().hex[:6]}",
            auto_offset_reset="earliest",
            state_dir=state_dir,
            use_changelog_topics=changelog,
        )
        topic = app.topic(topic_name, value_deserializer="json")
        marks: dict[str, float] = {"seen": 0}

        def total(value: dict[str, Any], state: State[Any, Any]) -> None:
            """Per project (the record key): the sum of its money, as the collector keeps."""
            data = value.get("data", value)
            amount = data.get("amount", data.get("cost", 0.0))
            state.set("money", state.get("money", 0.0) + amount)
            marks["seen"] += 1
            if marks["seen"] == 1:
                marks["first"] = time.perf_counter()
            if marks["seen"] >= expected:
                marks["last"] = time.perf_counter()
                app.stop()

        app.dataframe(topic).update(total, stateful=True)
        app.run()
    return (marks["seen"] - 1) / (marks["last"] - marks["first"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("peer", choices=["quix"])
    parser.add_argument("bootstrap")
    parser.add_argument("topic")
    parser.add_argument("expected", type=int)
    parser.add_argument("--no-changelog", action="store_true")
    args = parser.parse_args()
    rate = _run_quix(args.bootstrap, args.topic, args.expected, not args.no_changelog)
    print(json.dumps({"per_s": rate}))
