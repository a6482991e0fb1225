"""One collector vs two on the same topic (PostgreSQL state, separate processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import psycopg

from bench.common import preload, realistic_records, table, write
from collector.embedded import EmbeddedBroker, free_port
from tests.support.live import http_get, parse_series, total

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def run(broker: EmbeddedBroker, topic: str, instances: int, expected: int) -> float:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    dsn = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    ports = [free_port() for _ in range(instances)]
    env = {
        **os.environ,
        "OUTCOMES_SESSION_TIMEOUT_MS": "6000",
        "OUTCOMES_HEARTBEAT_INTERVAL_MS": "1000",
    }
    group = f"{topic}-{instances}"
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "collector",
                "collect",
                "--bootstrap-servers",
                broker.bootstrap_servers,
                "--topic",
                topic,
                "--group-id",
                group,
                "--state",
                dsn,
                "--listen",
                f"127.0.0.1:{port}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    first = None
    try:
        while True:
            counted = 0.0
            for port in ports:
                status, text = http_get(f"http://127.0.0.1:{port}/metrics")
                if status == 200:
                    counted += total(parse_series(text), "outcomes_collector_events_total")
            if counted and first is None:
                first = (time.perf_counter(), counted)
            if counted >= expected:
                break
            time.sleep(0.05)
        assert first is not None
        return (expected - first[1]) / (time.perf_counter() - first[0])
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


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
