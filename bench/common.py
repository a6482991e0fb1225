"""Shared helpers: the embedded broker, event generation, result tables."""

from __future__ import annotations

import gzip
import json
import os
import platform
import random
import time
import urllib.request
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from outcomes.sdk.events import new_event
from schemas.binding import KafkaRecord, to_binary, to_structured
from schemas.events import EventType

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


WORDS = ("triage", "patch", "rollout", "failover", "cleanup", "rightsizing", "backup", "certs")
TEAMS = ("itsm", "sre", "finops", "platform", "netops", "dba")


def realistic_records(
    count: int, projects: int = 200, seed: int = 1, structured_share: float = 0.5
) -> list[KafkaRecord]:
    """Runs (80%), costs, savings and availability windows over the last hours, with varied
    names and decimal amounts; `structured_share` of them in structured mode (both modes
    are first-class: SDKs and tools send either), the rest in binary mode."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    start = max(
        now - timedelta(hours=6), now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    )
    span_s = (now - start).total_seconds()
    names = [f"{rng.choice(TEAMS)}-{rng.choice(WORDS)}-{number}" for number in range(projects)]
    records = []
    for index in range(count):
        project = rng.choice(names)
        moment = start + timedelta(seconds=rng.random() * span_s)
        roll = rng.random()
        if roll < 0.8:
            data: dict[str, Any] = {
                "project": project,
                "automation": f"{rng.choice(WORDS)}-job-{rng.randrange(12)}",
                "outcome": "succeeded"
                if rng.random() < 0.93
                else rng.choice(["failed", "cancelled"]),
                "duration_s": round(rng.uniform(1, 600), 3),
                "manual_duration_s": float(rng.choice([300, 900, 1800, 2700])),
                "human_effort_s": 0.0 if rng.random() < 0.8 else round(rng.uniform(30, 900), 1),
                "cost": round(rng.uniform(0.001, 2.5), 4),
            }
            kind = EventType.RUN_FINISHED
        elif roll < 0.87:
            data = {"project": project, "amount": round(rng.uniform(1, 5000), 2),
                    "category": rng.choice(["compute", "licence", "labour"])}  # fmt: skip
            kind = EventType.COST_INCURRED
        elif roll < 0.94:
            data = {"project": project, "amount": round(rng.uniform(1, 9000), 2),
                    "category": rng.choice(["cloud", "licence", "incident"]),
                    "basis": "invoice diff"}  # fmt: skip
            kind = EventType.SAVINGS_REALIZED
        else:
            data = {
                "project": project,
                "service": rng.choice(["api", "web", "queue"]),
                "downtime_s": rng.choice([0.0, 0.0, 0.0, round(rng.uniform(1, 120), 1)]),
                "window_start": (moment - timedelta(minutes=5)).isoformat(),
                "window_end": moment.isoformat(),
            }
            kind = EventType.AVAILABILITY_OBSERVED
        event = new_event(kind, "bench", data, event_id=f"b{seed}-{index}", time=moment)
        encode = to_structured if rng.random() < structured_share else to_binary
        records.append(encode(event))
    return records


def preload(bootstrap: str, topic: str, records: Iterable[KafkaRecord]) -> float:
    """Produce everything, acknowledged; returns the seconds it took."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        linger_ms=20,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=16,
    )
    started = time.perf_counter()
    for record in records:
        producer.send(topic, key=record.key, value=record.value, headers=record.headers)
    producer.flush()
    producer.close()
    return time.perf_counter() - started


def write(name: str, result: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(
        json.dumps({"machine": machine(), **result}, indent=2) + "\n"
    )


def table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    print(f"\n{title}\n" + "-" * len(title))
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def events_counted(port: int) -> int:
    """Sum of `outcomes_collector_events_total` on a collector's /metrics (0 if down).

    Asks for that counter only (`?name[]=`, as Prometheus can) and scans lines instead of
    parsing, so a frequent watcher stays cheap next to the process it measures: a full
    scrape of a few hundred projects is megabytes (`full_scrape_s` measures that).
    """
    prefix = b"outcomes_collector_events_total{"
    url = f"http://127.0.0.1:{port}/metrics?name[]=outcomes_collector_events_total"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body: bytes = response.read()
    except OSError:
        return 0
    start = body.find(prefix)
    if start < 0:
        return 0
    counted = 0
    for line in body[start:].split(b"\n"):
        if not line.startswith(prefix):
            break
        counted += int(float(line.rsplit(b" ", 1)[1]))
    return counted


def full_scrape(port: int) -> tuple[float, int]:
    """(seconds, bytes) of one whole /metrics scrape, as Prometheus makes it (gzip)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Accept-Encoding": "gzip"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        body: bytes = response.read()
    return time.perf_counter() - started, len(gzip.decompress(body))


def processing_rate(
    ports: list[int], expected: int, interval_s: float = 0.5, *, settled_share: float = 0.0
) -> float:
    """Events/s the collectors on `ports` apply while they work through `expected` events.

    Measured between two samples of their summed event counters (the first one above
    `settled_share` of `expected` — non-zero at least — and the last one before all are
    counted), so start-up and the group join are excluded and neither end is rounded to
    the sampling interval. Sampling every half second keeps the scrapes' own cost small.
    `settled_share`: leave the first part of the work out too (the rebalance when a
    collector's second worker joins the group after the first started consuming).
    """
    first: tuple[float, int] | None = None
    last: tuple[float, int] | None = None
    while True:
        counted = sum(events_counted(port) for port in ports)
        now = time.perf_counter()
        if counted >= expected:
            break
        if counted and counted > settled_share * expected:
            first = first or (now, counted)
            last = (now, counted)
        time.sleep(interval_s)
    if first is None or last is None or last[0] <= first[0]:
        raise RuntimeError("too few samples: use more events")
    return (last[1] - first[1]) / (last[0] - first[0])
