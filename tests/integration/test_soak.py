"""Soak: 12,000 mixed good and bad messages through the real broker. Every message is
accepted, a duplicate, or dead-lettered (with its reason); the metrics are exact."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import datetime
from fractions import Fraction
from typing import Any

from collector.app import CollectorApp
from schemas.binding import KafkaRecord, format_time
from tests.support.brokers import Broker
from tests.support.expected import expected_totals, mismatches
from tests.support.generate import random_document, to_record
from tests.support.live import consume_all, counted, produce, scrape, total, wait_until

GOOD, DUPLICATES, BAD = 9000, 1000, 2000


def bad_message(rng: random.Random, index: int) -> tuple[str, KafkaRecord]:
    document = random_document(rng, 100_000 + index)
    key = document["data"]["project"].encode()
    kind = rng.randrange(5)
    if kind == 0:
        return "malformed", KafkaRecord(key, [], rng.randbytes(rng.randrange(1, 64)) + b"\xff")
    if kind == 1:
        document["data"]["surprise"] = True
        return "invalid", KafkaRecord(key, [], json.dumps(document).encode())
    if kind == 2:
        document["type"] = "outcomes.unknown.thing"
        return "unknown_type", KafkaRecord(key, [], json.dumps(document).encode())
    retimed = retime(document, "2019-01-01T00:00:00Z" if kind == 3 else "2099-01-01T00:00:00Z")
    return ("too_late" if kind == 3 else "future"), KafkaRecord(
        key, [], json.dumps(retimed).encode()
    )


def retime(document: dict[str, Any], time: str) -> dict[str, Any]:
    """The event moved to `time`; an availability window moves with it (its time is its
    end: otherwise it would be refused `invalid`, not for when it happened), and so does a
    resolved incident's start (a resolution before its start is `invalid` too)."""
    data = document["data"]
    if data.get("started_at") is not None:
        ended = datetime.fromisoformat(document["time"].replace("Z", "+00:00"))
        started = datetime.fromisoformat(data["started_at"].replace("Z", "+00:00"))
        moved = datetime.fromisoformat(time.replace("Z", "+00:00"))
        data["started_at"] = format_time(moved - (ended - started))
    if "window_end" in data:
        moved = datetime.fromisoformat(time.replace("Z", "+00:00"))
        length = datetime.fromisoformat(
            data["window_end"].replace("Z", "+00:00")
        ) - datetime.fromisoformat(data["window_start"].replace("Z", "+00:00"))
        data["window_start"], data["window_end"] = format_time(moved - length), format_time(moved)
    return {**document, "time": time}


def test_soak_accounts_for_every_message(
    broker: Broker, topic: str, start_collector: Callable[..., CollectorApp]
) -> None:
    rng = random.Random(99)
    documents = [random_document(rng, i) for i in range(GOOD)]
    records = [to_record(d, rng) for d in documents]
    records += [to_record(d, rng) for d in rng.sample(documents, DUPLICATES)]
    bad = [bad_message(rng, i) for i in range(BAD)]
    records += [record for _, record in bad]
    rng.shuffle(records)
    app = start_collector()
    sent = produce(broker.bootstrap_servers, topic, records)
    assert sent == GOOD + DUPLICATES + BAD
    wait_until(counted(app.metrics_url, sent), timeout_s=180)
    series = scrape(app.metrics_url)
    accepted = total(series, "outcomes_collector_events_total", result="accepted")
    duplicates = total(series, "outcomes_collector_events_total", result="duplicate")
    rejected = total(series, "outcomes_collector_events_total", result="rejected")
    assert (accepted, duplicates, rejected) == (GOOD, DUPLICATES, BAD)
    for reason in {r for r, _ in bad}:
        assert total(series, "outcomes_collector_rejected_total", reason=reason) == sum(
            1 for r, _ in bad if r == reason
        )
    assert mismatches(series, expected_totals(documents), Fraction(100)) == []
    dead = consume_all(broker.bootstrap_servers, f"{topic}.dlq", BAD, timeout_s=120)
    assert len(dead) == BAD
    assert accepted + duplicates + len(dead) == sent
