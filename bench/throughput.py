"""Throughput: a bare kafka-python consumer vs the collector end to end, same topic.

Preloads N realistic events into a 6-partition topic on the embedded broker, then
1. counts them with a bare consumer (same consumer settings, no processing), once with
   the interpreter's defaults and once with the collector's GC tuning;
2. runs `outcomes collect` as its own process (consumed, validated, deduplicated,
   aggregated, state committed) and measures its rate while it works through them.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import uuid
from pathlib import Path

from kafka import KafkaConsumer

from bench.common import (
    preload,
    processing_rate,
    realistic_records,
    table,
    write,
)
from collector.embedded import EmbeddedBroker, free_port
from collector.runtime import tune_garbage_collector
from tests.support.processes import start_collect_process

PARTITIONS = 6


def bare_rate(bootstrap: str, topic: str, expected: int) -> float:
    """Records/s of a kafka-python consumer that only counts them."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bare-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=2000,
        fetch_max_wait_ms=100,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    seen, first = 0, None
    while seen < expected:
        for batch in consumer.poll(timeout_ms=500).values():
            first = first or time.perf_counter()
            seen += len(batch)
    elapsed = time.perf_counter() - (first or time.perf_counter())
    consumer.close()
    return seen / elapsed


def bare_rate_tuned_gc(bootstrap: str, topic: str, expected: int) -> float:
    """`bare_rate` with the garbage-collector tuning `outcomes collect` applies to itself
    and its fetcher process: kafka-python's own limit under the same process settings."""
    threshold = gc.get_threshold()
    tune_garbage_collector()
    try:
        return bare_rate(bootstrap, topic, expected)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def collector_rate(bootstrap: str, topic: str, expected: int, state: str) -> float:
    """`outcomes collect` as its own process, with its default settings."""
    port = free_port()
    process = start_collect_process(bootstrap, topic, f"bench-{uuid.uuid4().hex[:6]}", state, port)
    try:
        return processing_rate([port], expected)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(count: int, postgres: str | None) -> dict[str, float]:
    with EmbeddedBroker() as broker:
        topic = f"bench-{uuid.uuid4().hex[:6]}"
        broker.create_topics({topic: PARTITIONS, f"{topic}.dlq": 1})
        records = realistic_records(count)
        produce_s = preload(broker.bootstrap_servers, topic, records)
        bare = bare_rate(broker.bootstrap_servers, topic, count)
        bare_tuned = bare_rate_tuned_gc(broker.bootstrap_servers, topic, count)
        with tempfile.TemporaryDirectory() as directory:
            sqlite = collector_rate(
                broker.bootstrap_servers, topic, count, str(Path(directory) / "s.db")
            )
        result = {
            "events": count,
            "produce_per_s": count / produce_s,
            "bare_per_s": bare,
            "bare_tuned_gc_per_s": bare_tuned,
            "collector_sqlite_per_s": sqlite,
            "ratio_sqlite": sqlite / bare,
            "ratio_sqlite_tuned_gc": sqlite / bare_tuned,
        }
        if postgres:
            pg = collector_rate(broker.bootstrap_servers, topic, count, postgres)
            result |= {
                "collector_postgres_per_s": pg,
                "ratio_postgres": pg / bare,
                "ratio_postgres_tuned_gc": pg / bare_tuned,
            }
    table(
        f"throughput ({count:,} events, {PARTITIONS} partitions)",
        [
            ("bare kafka-python consumer", f"{bare:,.0f} events/s"),
            ("bare consumer, collector's GC tuning", f"{bare_tuned:,.0f} events/s"),
            (
                "collector end to end (SQLite)",
                f"{sqlite:,.0f} events/s  ({sqlite / bare:.0%} of bare,"
                f" {sqlite / bare_tuned:.0%} of tuned)",
            ),
            *(
                [
                    (
                        "collector end to end (PostgreSQL)",
                        f"{result['collector_postgres_per_s']:,.0f} events/s"
                        f"  ({result['ratio_postgres']:.0%} of bare,"
                        f" {result['ratio_postgres_tuned_gc']:.0%} of tuned)",
                    )
                ]
                if postgres
                else []
            ),
        ],
    )
    write("throughput", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--postgres", help="also measure with this PostgreSQL DSN")
    args = parser.parse_args()
    main(args.events, args.postgres)
