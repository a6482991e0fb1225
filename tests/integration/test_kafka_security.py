"""The collector against an Apache Kafka that requires SASL (PLAIN, SCRAM-SHA-256,
SCRAM-SHA-512): the `kafka_sasl_*` settings reach every client (consumer, dead-letter
producer), and wrong credentials are reported on /readyz without consuming anything."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from collector.app import CollectorApp
from collector.embedded import free_port
from tests.integration.conftest import apache_kafka_unavailable, collector_settings
from tests.support.apache_kafka import ApacheKafka, ApacheKafkaUnavailableError
from tests.support.generate import random_document, to_record
from tests.support.live import counted, http_get, produce, scrape, total, wait_until
from tests.support.processes import start_collect_process

USERS = {"collector": "c0llect-s3cret"}


@pytest.fixture(scope="module")
def sasl_kafka() -> Iterator[ApacheKafka]:
    try:
        kafka = ApacheKafka(sasl_users=USERS).start()
    except ApacheKafkaUnavailableError as error:
        apache_kafka_unavailable(error)
    try:
        yield kafka
    finally:
        kafka.stop()


def sasl_collector(
    kafka: ApacheKafka, topic: str, state: Path, mechanism: str, password: str
) -> CollectorApp:
    assert kafka.sasl_bootstrap_servers is not None
    settings = collector_settings(kafka, topic, state).model_copy(
        update={
            "bootstrap_servers": kafka.sasl_bootstrap_servers,
            "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_mechanism": mechanism,
            "kafka_sasl_username": "collector",
            "kafka_sasl_password": SecretStr(password),
        }
    )
    return CollectorApp(settings)


def authentication_problem(response: tuple[int, str]) -> str | None:
    """/readyz naming the failed authentication: the broker's answer once kafka-python saw
    it (on about 1 attempt in 50; on the others it sees only the closed connection), else
    what a closed connection of a SASL client means."""
    status, body = response
    named = "Authentication failed" in body or "SCRAM-SHA-256 authentication fails" in body
    return body if status == 503 and named else None


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_collector_ingests_and_dead_letters_exactly(
    sasl_kafka: ApacheKafka, tmp_path: Path, mechanism: str
) -> None:
    topic = f"sasl-{uuid.uuid4().hex[:8]}"
    sasl_kafka.create_topics({topic: 3, f"{topic}.dlq": 1})
    rng = random.Random(5)
    records = [to_record(random_document(rng, i), rng) for i in range(50)]
    bad = dataclasses.replace(records[0], value=b"{not json")
    produce(sasl_kafka.bootstrap_servers, topic, [*records, bad])
    app = sasl_collector(sasl_kafka, topic, tmp_path / "state.db", mechanism, USERS["collector"])
    app.start()
    try:
        wait_until(counted(app.metrics_url, 51), timeout_s=60)
        series = scrape(app.metrics_url)
        assert total(series, "outcomes_collector_events_total", result="accepted") == 50
        assert total(series, "outcomes_collector_rejected_total", reason="malformed") == 1
    finally:
        app.stop()


def test_wrong_password_is_reported_not_ready_and_consumes_nothing(
    sasl_kafka: ApacheKafka, tmp_path: Path
) -> None:
    """As its own process: kafka-python's clients leave sockets behind for the garbage
    collector each time their constructor gives up, which this test does on purpose."""
    topic = f"sasl-{uuid.uuid4().hex[:8]}"
    sasl_kafka.create_topics({topic: 3, f"{topic}.dlq": 1})
    rng = random.Random(6)
    produce(sasl_kafka.bootstrap_servers, topic, [to_record(random_document(rng, 0), rng)])
    port = free_port()
    process = start_collect_process(
        sasl_kafka, topic, f"{topic}-g", str(tmp_path / "state.db"), port, tmp_path / "log",
        bootstrap_servers=sasl_kafka.sasl_bootstrap_servers,
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="collector", kafka_sasl_password="wrong",
    )  # fmt: skip
    try:
        ready = f"http://127.0.0.1:{port}/readyz"
        body = wait_until(lambda: authentication_problem(http_get(ready)), timeout_s=180)
        assert body.startswith("broker:") and "SCRAM-SHA-256" in body, body
        metrics = scrape(f"http://127.0.0.1:{port}/metrics")
        assert total(metrics, "outcomes_collector_events_total") == 0
    finally:
        process.kill()  # its Kafka clients may be inside a bootstrap attempt of a minute
        process.wait(timeout=30)
