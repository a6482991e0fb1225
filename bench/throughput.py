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
from statistics import median
from typing import Any

from kafka import KafkaConsumer

from bench.common import (
    preload,
    processing_rate,
    realistic_records,
    table,
    write,
)
from collector.embedded import free_port
from collector.runtime import tune_garbage_collector
from tests.support.brokers import KINDS, Broker, running_broker
from tests.support.postgres import fresh_schema
from tests.support.processes import start_collect_process

PARTITIONS = 6
STORES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


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


def collector_rate(broker: Broker, topic: str, expected: int, state: str) -> float:
    """`outcomes collect` as its own process, with its default settings."""
    port = free_port()
    process = start_collect_process(broker, topic, f"bench-{uuid.uuid4().hex[:6]}", state, port)
    try:
        return processing_rate([port], expected)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(
    count: int, postgres: str | None, rounds: int = 1, broker_kind: str = "embedded"
) -> dict[str, Any]:
    """`rounds` times: the bare consumer (both ways), then the collector on SQLite (and
    PostgreSQL); ratios are taken within a round, so drift between rounds cancels out.
    `broker_kind`: the embedded broker (Tansu) or Apache Kafka (tests/support/brokers.py)."""
    with running_broker(broker_kind) as broker:
        topic = f"bench-{uuid.uuid4().hex[:6]}"
        broker.create_topics({topic: PARTITIONS, f"{topic}.dlq": 1})
        records = realistic_records(count)
        produce_s = preload(broker.bootstrap_servers, topic, records)
        measured = [one_round(broker, topic, count, postgres) for _ in range(rounds)]
    result: dict[str, Any] = {
        "broker": broker.description,
        "events": count,
        "produce_per_s": count / produce_s,
        **{key: median(r[key] for r in measured) for key in measured[0]},
        "rounds": measured,
    }
    rows = [
        ("bare kafka-python consumer", f"{result['bare_per_s']:,.0f} events/s"),
        ("bare consumer, collector's GC tuning", f"{result['bare_tuned_gc_per_s']:,.0f} events/s"),
    ]
    for store in ("sqlite", "postgres") if postgres else ("sqlite",):
        ratios = ", ".join(f"{r[f'ratio_{store}']:.0%}" for r in measured)
        rows.append(
            (
                f"collector end to end ({STORES[store]})",
                f"{result[f'collector_{store}_per_s']:,.0f} events/s"
                f"  ({result[f'ratio_{store}']:.0%} of bare,"
                f" {result[f'ratio_{store}_tuned_gc']:.0%} of tuned)",
            )
        )
        if rounds > 1:
            rows.append((f"  ratio to bare in each round ({STORES[store]})", ratios))
    title = f"throughput on {broker_kind} ({count:,} events, {PARTITIONS} partitions"
    table(title + (f", median of {rounds} rounds)" if rounds > 1 else ")"), rows)
    write("throughput" if broker_kind == "embedded" else f"throughput-{broker_kind}", result)
    return result


def one_round(broker: Broker, topic: str, count: int, postgres: str | None) -> dict[str, float]:
    bootstrap = broker.bootstrap_servers
    bare = bare_rate(bootstrap, topic, count)
    bare_tuned = bare_rate_tuned_gc(bootstrap, topic, count)
    with tempfile.TemporaryDirectory() as directory:
        sqlite = collector_rate(broker, topic, count, str(Path(directory) / "s.db"))
    measured = {
        "bare_per_s": bare,
        "bare_tuned_gc_per_s": bare_tuned,
        "collector_sqlite_per_s": sqlite,
        "ratio_sqlite": sqlite / bare,
        "ratio_sqlite_tuned_gc": sqlite / bare_tuned,
    }
    if postgres:
        with fresh_schema(postgres, "bench") as dsn:
            pg = collector_rate(broker, topic, count, dsn)
        measured |= {
            "collector_postgres_per_s": pg,
            "ratio_postgres": pg / bare,
            "ratio_postgres_tuned_gc": pg / bare_tuned,
        }
    return measured


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument(
        "--postgres", help="also measure with this PostgreSQL database (a fresh schema per round)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat; report medians")
    parser.add_argument("--broker", choices=KINDS, default="embedded")
    args = parser.parse_args()
    main(args.events, args.postgres, args.rounds, args.broker)
