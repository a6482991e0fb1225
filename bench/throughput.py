"""Throughput, side by side on one preloaded topic of mixed events.

Preloads N realistic events (half binary, half structured mode; runs, costs, savings and
availability windows with varied names and amounts) into a 6-partition topic, then in each
round measures, one after the other on the same topic:
1. a bare kafka-python consumer that only counts records, with its defaults and tuned for
   throughput (the anchor of the goals), and a bare confluent-kafka consumer;
2. Quix Streams applications: one keeping a per-project sum, one doing the collector's
   work on each event (the same decoder, duplicates dropped, sums per project and month;
   bench/quix_app.py);
3. `outcomes collect` as deployed: its own process, default settings (one worker per
   CPU; consumed, validated, deduplicated, aggregated, state committed), measured from
   /metrics; then the same with the optional confluent-kafka source (`source: confluent`);
   then both again with one pipeline (`--workers 1`, as on a one-CPU container).
Ratios are taken within a round, so the machine's drift between rounds cancels out.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from pathlib import Path
from statistics import median
from typing import Any

from bench.common import preload, processing_rate, realistic_records, table, write
from bench.peers import confluent_rate, kafka_python_rate, quix_rate
from collector.embedded import free_port
from tests.support.brokers import KINDS, Broker, running_broker
from tests.support.postgres import fresh_schema
from tests.support.processes import start_collect_process

PARTITIONS = 6
CORES = len(os.sched_getaffinity(0))
STORES = {
    "sqlite": f"SQLite, defaults: {CORES} workers",
    "confluent": f"SQLite, {CORES} workers, source: confluent",
    "one_pipeline": "SQLite, --workers 1",
    "one_pipeline_confluent": "SQLite, --workers 1, source: confluent",
    "postgres": f"PostgreSQL, {CORES} workers",
}
VARIANTS: dict[str, dict[str, str]] = {
    "sqlite": {},
    "confluent": {"source": "confluent"},
    "one_pipeline": {"workers": "1"},
    "one_pipeline_confluent": {"workers": "1", "source": "confluent"},
}
"""The collector's settings measured on SQLite, beside its defaults."""


SETTLED_SHARE = 0.2
"""Every collector variant is measured after its first fifth of the topic: the group join
and, with workers, the rebalance when the second joins after the first began (Tansu takes
half a session timeout for it) stay out of the window, as the bare consumers' joins do."""


def collector_rate(broker: Broker, topic: str, expected: int, state: str, **settings: str) -> float:
    """`outcomes collect` as its own process, with its default settings (and `settings`)."""
    settings.setdefault("workers", "auto")  # the default (the tests' helper pins one pipeline)
    port = free_port()
    group = f"bench-{uuid.uuid4().hex[:6]}"
    process = start_collect_process(
        broker, topic, group, state, port, log=None, bootstrap_servers=None, **settings
    )
    try:
        return processing_rate([port], expected, settled_share=SETTLED_SHARE)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(
    count: int,
    postgres: str | None,
    *,
    rounds: int = 1,
    broker_kind: str = "embedded",
    structured_share: float = 0.5,
    quix: bool = True,
) -> dict[str, Any]:
    """`rounds` times every consumer, then medians. `broker_kind`: the embedded broker
    (Tansu) or Apache Kafka (tests/support/brokers.py)."""
    with running_broker(broker_kind) as broker:
        topic = f"bench-{uuid.uuid4().hex[:6]}"
        broker.create_topics({topic: PARTITIONS, f"{topic}.dlq": 1})
        records = realistic_records(count, structured_share=structured_share)
        produce_s = preload(broker.bootstrap_servers, topic, records)
        measured = [one_round(broker, topic, count, postgres, quix) for _ in range(rounds)]
    result: dict[str, Any] = {
        "broker": broker.description,
        "events": count,
        "structured_share": structured_share,
        "produce_per_s": count / produce_s,
        **{key: median(r[key] for r in measured) for key in measured[0]},
        "rounds": measured,
    }
    rows = [
        ("bare kafka-python consumer, defaults", f"{result['kafka_python_per_s']:,.0f} events/s"),
        ("bare kafka-python consumer, tuned (anchor)",
         f"{result['kafka_python_tuned_per_s']:,.0f} events/s"),
        ("bare confluent-kafka consumer", f"{result['confluent_per_s']:,.0f} events/s"),
    ]  # fmt: skip
    if quix:
        rows.append(("Quix Streams app, stateful sum", f"{result['quix_per_s']:,.0f} events/s"))
        rows.append(
            ("Quix Streams app, the collector's work", f"{result['quix_work_per_s']:,.0f} events/s")
        )
    for store in [*VARIANTS, "postgres"] if postgres else VARIANTS:
        line = (
            f"{result[f'collector_{store}_per_s']:,.0f} events/s"
            f"  ({result[f'ratio_{store}_tuned']:.2f}x tuned kafka-python"
        )
        if quix:
            line += (
                f", {result[f'ratio_{store}_quix']:.2f}x Quix sum,"
                f" {result[f'ratio_{store}_quix_work']:.2f}x Quix doing its work)"
            )
        else:
            line += ")"
        rows.append((f"collector as deployed ({STORES[store]})", line))
        if rounds > 1:
            each = ", ".join(f"{r[f'ratio_{store}_tuned']:.2f}" for r in measured)
            rows.append(("  ratio to tuned kafka-python in each round", each))
    title = (
        f"throughput on {broker_kind} ({count:,} events, {structured_share:.0%} structured,"
        f" {PARTITIONS} partitions"
    )
    table(title + (f", median of {rounds} rounds)" if rounds > 1 else ")"), rows)
    write("throughput" if broker_kind == "embedded" else f"throughput-{broker_kind}", result)
    return result


def one_round(
    broker: Broker, topic: str, count: int, postgres: str | None, quix: bool
) -> dict[str, float]:
    bootstrap = broker.bootstrap_servers
    measured = {
        "kafka_python_per_s": kafka_python_rate(bootstrap, topic, count, tuned=False),
        "kafka_python_tuned_per_s": kafka_python_rate(bootstrap, topic, count, tuned=True),
        "confluent_per_s": confluent_rate(bootstrap, topic, count),
    }
    if quix:
        measured["quix_per_s"] = quix_rate(bootstrap, topic, count)
        measured["quix_work_per_s"] = quix_rate(bootstrap, topic, count, work="collector")
    stores: dict[str, float] = {}
    for variant, settings in VARIANTS.items():
        with tempfile.TemporaryDirectory() as directory:
            state = str(Path(directory) / "s.db")
            stores[variant] = collector_rate(broker, topic, count, state, **settings)
    if postgres:
        with fresh_schema(postgres, "bench") as dsn:
            stores["postgres"] = collector_rate(broker, topic, count, dsn)
    for store, rate in stores.items():
        measured[f"collector_{store}_per_s"] = rate
        measured[f"ratio_{store}_tuned"] = rate / measured["kafka_python_tuned_per_s"]
        measured[f"ratio_{store}_default"] = rate / measured["kafka_python_per_s"]
        if quix:
            measured[f"ratio_{store}_quix"] = rate / measured["quix_per_s"]
            measured[f"ratio_{store}_quix_work"] = rate / measured["quix_work_per_s"]
    return measured


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument(
        "--postgres", help="also measure with this PostgreSQL database (a fresh schema per round)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat; report medians")
    parser.add_argument("--broker", choices=KINDS, default="embedded")
    parser.add_argument(
        "--structured", type=float, default=0.5, help="share of structured-mode events"
    )
    parser.add_argument(
        "--no-quix",
        action="store_true",
        help="leave the Quix Streams app out (always on the embedded broker: Quix's state"
        " store needs the topic's retention.ms from DescribeConfigs, which Tansu does not"
        " report)",
    )
    args = parser.parse_args()
    main(
        args.events,
        args.postgres,
        rounds=args.rounds,
        broker_kind=args.broker,
        structured_share=args.structured,
        quix=not args.no_quix and args.broker != "embedded",
    )
