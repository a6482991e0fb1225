"""One collector vs two on the same topic (PostgreSQL state, separate processes)."""

from __future__ import annotations

import uuid

from bench.common import (
    preload,
    processing_rate,
    realistic_records,
    table,
    write,
)
from collector.embedded import EmbeddedBroker, free_port
from tests.support.postgres import fresh_schema, postgres_database
from tests.support.processes import start_collect_process


def run(broker: EmbeddedBroker, topic: str, instances: int, expected: int) -> float:
    ports = [free_port() for _ in range(instances)]
    group = f"{topic}-{instances}"
    with postgres_database() as database, fresh_schema(database, "bench") as dsn:
        processes = [start_collect_process(broker, topic, group, dsn, port) for port in ports]
        try:
            return processing_rate(ports, expected)
        finally:
            for process in processes:
                process.terminate()
                process.wait(30)


def main(events: int = 200_000) -> dict[str, float]:
    with EmbeddedBroker() as broker:
        topic = f"scale-{uuid.uuid4().hex[:6]}"
        broker.create_topics({topic: 6, f"{topic}.dlq": 1})
        preload(broker.bootstrap_servers, topic, realistic_records(events, projects=600))
        one = run(broker, topic, 1, events)
        two = run(broker, topic, 2, events)
    result = {"events": events, "one_per_s": one, "two_per_s": two, "speedup": two / one}
    table(
        f"scale-out ({events:,} events, 6 partitions, PostgreSQL)",
        [
            ("one collector", f"{one:,.0f} events/s"),
            ("two collectors (2 cores)", f"{two:,.0f} events/s  ({two / one:.2f}x)"),
        ],
    )
    write("scale", result)
    return result


if __name__ == "__main__":
    main()
