"""End to end through a real Kafka-protocol broker: both CloudEvents modes, the
official SDK, duplicates, and every kind of bad input."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from cloudevents.v1.http import CloudEvent
from cloudevents.v1.kafka import to_binary as sdk_to_binary
from cloudevents.v1.kafka import to_structured as sdk_to_structured

from collector.app import CollectorApp
from schemas.binding import KafkaRecord, format_time, to_binary
from schemas.events import EventType
from tests.support.brokers import Broker
from tests.support.expected import expected_totals, mismatches
from tests.support.generate import random_document, recent_time, to_record
from tests.support.live import as_bytes, consume_all, http_get, produce, scrape, total, wait_until


def accepted_and_more(app: CollectorApp, count: int) -> Callable[[], bool]:
    def check() -> bool:
        series = scrape(app.metrics_url)
        return total(series, "outcomes_collector_events_total") >= count

    return check


def sdk_records(documents: list[dict[str, Any]]) -> list[KafkaRecord]:
    records = []
    for index, document in enumerate(documents):
        attributes = {k: v for k, v in document.items() if k != "data"}
        attributes["partitionkey"] = document["data"]["project"]
        attributes["datacontenttype"] = "application/json"
        event = CloudEvent(attributes, document["data"])
        message = sdk_to_binary(event) if index % 2 else sdk_to_structured(event)
        records.append(
            KafkaRecord(
                str(message.key).encode(), list(message.headers.items()), as_bytes(message.value)
            )
        )
    return records


def test_both_modes_sdk_and_duplicates_give_exact_metrics(
    broker: Broker, topic: str, start_collector: Callable[..., CollectorApp]
) -> None:
    assert_both_modes_exact(broker, topic, start_collector())


def assert_both_modes_exact(broker: Broker, topic: str, app: CollectorApp) -> None:
    """Binary, structured and the official SDK's records plus duplicates: exact metrics."""
    rng = random.Random(11)
    documents = [random_document(rng, i) for i in range(400)]
    ours = [to_record(d, rng) for d in documents[:300]]
    official = sdk_records(documents[300:])
    duplicates = [to_record(d, rng) for d in rng.sample(documents, 60)]
    sent = produce(broker.bootstrap_servers, topic, ours + official + duplicates)

    wait_until(accepted_and_more(app, sent))
    series = scrape(app.metrics_url)
    assert mismatches(series, expected_totals(documents), Fraction(100)) == []
    assert total(series, "outcomes_collector_events_total", result="accepted") == 400
    assert total(series, "outcomes_collector_events_total", result="duplicate") == 60
    assert total(series, "outcomes_collector_events_total", result="rejected") == 0
    wait_until(lambda: total(scrape(app.metrics_url), "outcomes_collector_consumer_lag") == 0)


def _bad_inputs(now: datetime) -> list[tuple[str, KafkaRecord]]:
    good = json.loads(json.dumps(random_document(random.Random(1), 0)))
    good["data"] = {
        "project": "ticket-triage", "automation": "fix", "outcome": "succeeded",
        "duration_s": 1.0, "manual_duration_s": 60.0, "human_effort_s": 0.0, "cost": 0.5,
    }  # fmt: skip
    good["type"] = "outcomes.run.finished"
    good["time"] = format_time(now)

    def variant(**changes: object) -> bytes:
        document = {**good, "id": f"bad-{len(changes)}-{sorted(changes)}", **changes}
        return json.dumps(document).encode()

    def data(**changes: object) -> bytes:
        return variant(data={**good["data"], **changes})

    key = b"ticket-triage"
    structured = [("content-type", b"application/cloudevents+json")]
    return [
        ("malformed", KafkaRecord(key, structured, b"{this is not json")),
        ("malformed", KafkaRecord(key, [("content-type", b"text/plain")], b"hello")),
        ("invalid", KafkaRecord(key, structured, data(duration_s=-1))),
        ("invalid", KafkaRecord(key, structured, data(extra_field=1))),
        ("invalid", KafkaRecord(key, structured, variant(time="2026-11-01T00:00:00"))),
        ("invalid", KafkaRecord(b"someone-else", structured, data())),
        ("unknown_type", KafkaRecord(key, structured, variant(type="outcomes.pizza.ordered"))),
        ("too_large", KafkaRecord(key, structured, data(links=["x" * 1000] * 20))),
        (
            "too_late",
            KafkaRecord(key, structured, variant(time=format_time(now - timedelta(days=80)))),
        ),
        (
            "future",
            KafkaRecord(key, structured, variant(time=format_time(now + timedelta(hours=1)))),
        ),
        ("currency", KafkaRecord(key, structured, data(currency="EUR"))),
        ("accepted", KafkaRecord(key, structured, variant(id="the-good-one"))),
    ]


@pytest.mark.parametrize("consumer_process", [True, False], ids=["fetcher-process", "in-thread"])
def test_every_bad_input_is_dead_lettered_unchanged_and_counted(
    broker: Broker,
    topic: str,
    start_collector: Callable[..., CollectorApp],
    consumer_process: bool,
) -> None:
    app = start_collector(max_event_bytes=10_000, consumer_process=consumer_process)
    cases = _bad_inputs(recent_time(random.Random(2)))
    produce(broker.bootstrap_servers, topic, [record for _, record in cases])
    wait_until(accepted_and_more(app, len(cases)))

    series = scrape(app.metrics_url)
    reasons = [reason for reason, _ in cases if reason != "accepted"]
    for reason in set(reasons):
        got = total(series, "outcomes_collector_rejected_total", reason=reason)
        assert got == reasons.count(reason), reason
    assert total(series, "outcomes_collector_events_total", result="rejected") == len(reasons)
    assert total(series, "outcomes_runs_total", project="ticket-triage") == 1

    dead = consume_all(broker.bootstrap_servers, f"{topic}.dlq", len(reasons))
    assert len(dead) == len(reasons)
    by_value = {m.value: m for m in dead}
    for reason, record in cases:
        if reason == "accepted":
            assert record.value not in by_value
            continue
        message = by_value[record.value]
        headers = dict(message.headers)
        assert message.key == record.key
        assert headers["outcomes_error_reason"] == reason.encode()
        assert headers["outcomes_error_detail"]
        assert headers["outcomes_original_topic"] == topic.encode()
        assert int(headers["outcomes_original_partition"]) in range(3)
        assert int(headers["outcomes_original_offset"]) >= 0
        assert headers["outcomes_consumer_group"] == app.settings.group_id.encode()
        for name, raw in record.headers:
            assert (name, raw) in message.headers
    if not consumer_process:  # once is enough: `outcomes dlq tail` lists them by reason
        listed = subprocess.run(
            [sys.executable, "-m", "outcomes", "dlq", "tail", "--bootstrap-servers",
             broker.bootstrap_servers, "--topic", topic, "--reason", "too_late", "--group",
             app.settings.group_id, "--json"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        rows = [json.loads(line) for line in listed.stdout.splitlines()]
        assert len(rows) == reasons.count("too_late") > 0
        assert {(row["reason"], row["group"]) for row in rows} == {
            ("too_late", app.settings.group_id)
        }
        # each names the refused event: its id, source, type and project
        assert all(row["id"] and row["source"] and row["project"] for row in rows), rows
        assert {row["type"] for row in rows} <= {t.value for t in EventType}
        table = subprocess.run(
            [sys.executable, "-m", "outcomes", "dlq", "tail", "--bootstrap-servers",
             broker.bootstrap_servers, "--topic", topic, "--reason", "too_late", "--group",
             app.settings.group_id],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert rows[0]["id"] in table.stdout  # a pipe: whole ids, no 80-column wrap


def test_health_and_readiness(start_collector: Callable[..., CollectorApp]) -> None:
    app = start_collector()
    base = app.metrics_url.removesuffix("/metrics")
    assert http_get(f"{base}/healthz") == (200, "ok\n")
    wait_until(lambda: http_get(f"{base}/readyz")[0] == 200)
    assert http_get(f"{base}/nope")[0] == 404


def test_readyz_fails_while_the_broker_is_unreachable(tmp_path: Path) -> None:
    from collector.config import Settings
    from collector.embedded import free_port

    app = CollectorApp(
        Settings(
            bootstrap_servers=f"127.0.0.1:{free_port()}",
            state=f"{tmp_path}/state.db",
            listen="127.0.0.1:0",
        )
    )
    app.start()
    try:
        base = app.metrics_url.removesuffix("/metrics")

        def broker_problem() -> tuple[int, str] | None:
            status, body = http_get(f"{base}/readyz")
            return (status, body) if "broker" in body else None

        assert wait_until(broker_problem)[0] == 503
        assert http_get(f"{base}/healthz")[0] == 200
    finally:
        app.stop()


def test_live_metrics_pass_promtool(
    broker: Broker, topic: str, start_collector: Callable[..., CollectorApp]
) -> None:
    import shutil
    import subprocess

    app = start_collector()
    rng = random.Random(5)
    records = [to_record(random_document(rng, i), rng) for i in range(50)]
    records.append(KafkaRecord(b"x", [], b"junk"))
    sent = produce(broker.bootstrap_servers, topic, records)
    wait_until(accepted_and_more(app, sent))
    status, text = http_get(app.metrics_url)
    promtool = shutil.which("promtool")
    assert promtool, "promtool is required: install Debian's prometheus package (make test does)"
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert (status, result.returncode, result.stdout, result.stderr) == (200, 0, "", "")


def test_binary_mode_record_round_trips_through_the_broker(
    broker: Broker, topic: str, start_collector: Callable[..., CollectorApp]
) -> None:
    from tests.support.events import make_event

    app = start_collector()
    event = make_event(time=recent_time(random.Random(3)), project="patch-rollout", cost=1.25)
    produce(broker.bootstrap_servers, topic, [to_binary(event)])
    wait_until(accepted_and_more(app, 1))
    series = scrape(app.metrics_url)
    assert total(series, "outcomes_cost_total", project="patch-rollout", category="run") == 1.25
    assert datetime.now(UTC) >= event.time
