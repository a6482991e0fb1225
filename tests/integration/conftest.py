"""Fixtures with real components: one embedded Kafka-protocol broker (Tansu) per test
session, a fresh topic per test, and in-process collectors on ephemeral ports."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.app import CollectorApp
from collector.config import Settings
from collector.embedded import EmbeddedBroker

TEST_SESSION_TIMEOUT_MS = 6_000


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as running:
        yield running


@pytest.fixture
def topic(broker: EmbeddedBroker) -> str:
    name = f"events-{uuid.uuid4().hex[:10]}"
    broker.create_topics({name: 3, f"{name}.dlq": 1})
    return name


def collector_settings(
    broker: EmbeddedBroker, topic: str, state: Path | str, **extra: Any
) -> Settings:
    return Settings(
        bootstrap_servers=broker.bootstrap_servers,
        topic=topic,
        group_id=f"{topic}-group",
        state=str(state),
        listen="127.0.0.1:0",
        session_timeout_ms=TEST_SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=1_000,
        **extra,
    )


@pytest.fixture
def start_collector(
    broker: EmbeddedBroker, topic: str, tmp_path: Path
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
