"""The testcontainers path, proven on this machine's Docker-compatible engine: the
embedded broker's static binary as a FROM-scratch image, started by testcontainers, with
a real collector ingesting through it. Skipped when no engine answers; CI starts one
(.ci/podman-service) and sets OUTCOMES_REQUIRE_CONTAINERS=1, which turns the skip into a
failure."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.app import CollectorApp
from tests.integration.conftest import collector_settings
from tests.integration.test_ingest import assert_both_modes_exact
from tests.support.brokers import Broker
from tests.support.containers import ContainerTansu, engine_error, tansu_image


@pytest.fixture(scope="module")
def container_broker() -> Iterator[Broker]:
    error = engine_error()
    if error is not None:
        if os.environ.get("OUTCOMES_REQUIRE_CONTAINERS") == "1":
            pytest.fail(f"a container engine is required here: {error}")
        pytest.skip(error)
    with ContainerTansu(tansu_image()) as running:
        yield running


def test_ingest_through_a_broker_started_by_testcontainers(
    container_broker: Broker, tmp_path: Path
) -> None:
    topic = f"containers-{uuid.uuid4().hex[:8]}"
    container_broker.create_topics({topic: 3, f"{topic}.dlq": 1})
    app = CollectorApp(collector_settings(container_broker, topic, tmp_path / "state.db"))
    app.start()
    try:
        assert_both_modes_exact(container_broker, topic, app)
    finally:
        app.stop()
