"""Fixtures with real components: one broker of each kind per test session (the embedded
Tansu and Apache Kafka 4.x; every test that talks Kafka runs on both), a fresh topic per
test, and in-process collectors on ephemeral ports."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, NoReturn

import pytest

from collector.app import CollectorApp
from collector.config import Settings
from tests.support.apache_kafka import ApacheKafkaUnavailableError
from tests.support.brokers import (
    KINDS,
    REQUIRE_APACHE_KAFKA,
    Broker,
    leave_group_for,
    running_broker,
)

TEST_SESSION_TIMEOUT_MS = 6_000


def apache_kafka_unavailable(error: ApacheKafkaUnavailableError) -> NoReturn:
    """Skip, or fail under OUTCOMES_REQUIRE_APACHE_KAFKA=1 (CI always runs these tests)."""
    if os.environ.get(REQUIRE_APACHE_KAFKA) == "1":
        pytest.fail(f"Apache Kafka is required here ({REQUIRE_APACHE_KAFKA}=1): {error}")
    pytest.skip(f"Apache Kafka cannot run here: {error}")


def enter_broker(kind: str, stack: list[AbstractContextManager[Broker]]) -> Broker:
    """Start a broker of `kind` and remember it in `stack` for stopping."""
    context = running_broker(kind)
    try:
        started = context.__enter__()
    except ApacheKafkaUnavailableError as error:
        apache_kafka_unavailable(error)
    stack.append(context)
    return started


@pytest.fixture(scope="session", params=KINDS)
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    stack: list[AbstractContextManager[Broker]] = []
    yield enter_broker(request.param, stack)
    for context in stack:
        context.__exit__(None, None, None)


@pytest.fixture
def own_broker(broker: Broker) -> Iterator[Callable[[], Broker]]:
    """Starts a private broker of the session broker's kind, for tests that pause or
    stop it; stopped after the test."""
    stack: list[AbstractContextManager[Broker]] = []
    yield lambda: enter_broker(broker.kind, stack)
    for context in stack:
        context.__exit__(None, None, None)


@pytest.fixture
def topic(broker: Broker) -> str:
    name = f"events-{uuid.uuid4().hex[:10]}"
    broker.create_topics({name: 3, f"{name}.dlq": 1})
    return name


def collector_settings(broker: Broker, topic: str, state: Path | str, **extra: Any) -> Settings:
    """One pipeline (`workers=1`) unless `extra` says otherwise: these tests look at one
    pipeline's behaviour; tests/integration/test_workers.py runs the default, one worker
    per CPU."""
    extra.setdefault("workers", 1)
    return Settings(
        bootstrap_servers=broker.bootstrap_servers,
        topic=topic,
        group_id=f"{topic}-group",
        state=str(state),
        listen="127.0.0.1:0",
        session_timeout_ms=TEST_SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=1_000,
        leave_group=leave_group_for(broker),
        **extra,
    )


@pytest.fixture
def start_collector(
    broker: Broker, topic: str, tmp_path: Path
) -> Iterator[Callable[..., CollectorApp]]:
    apps: list[CollectorApp] = []

    def start(**extra: Any) -> CollectorApp:
        app = CollectorApp(collector_settings(broker, topic, tmp_path / "state.db", **extra))
        app.start()
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.stop()
