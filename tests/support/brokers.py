"""The Kafka-protocol brokers every Kafka integration test runs on.

`embedded`: Tansu, the broker `make run` starts (no JVM). `apache-kafka`: Apache Kafka
4.x from Maven Central (tests/support/apache_kafka.py), or through testcontainers when
`OUTCOMES_TEST_CONTAINERS=1` (tests/support/containers.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from collector.embedded import EmbeddedBroker

KINDS = ("embedded", "apache-kafka")
REQUIRE_APACHE_KAFKA = "OUTCOMES_REQUIRE_APACHE_KAFKA"
STARTED: dict[str, str] = {}
"""kind -> description of the brokers this process started (for the test summary)."""


class Broker(Protocol):
    """What the tests use of a running broker."""

    kind: str
    bootstrap_servers: str

    @property
    def description(self) -> str: ...

    @property
    def pid(self) -> int | None:
        """The broker's process id, for tests that pause it; None when not ours to signal."""

    @property
    def log_path(self) -> Path: ...

    def create_topics(self, partitions: dict[str, int]) -> None: ...


def leave_group_for(broker: Broker) -> str:
    """The collector's `leave_group` setting for this broker (see collector.config)."""
    return "assigned" if broker.kind == "embedded" else "always"


def containers_requested() -> bool:
    return os.environ.get("OUTCOMES_TEST_CONTAINERS") == "1"


@contextmanager
def running_broker(kind: str) -> Iterator[Broker]:
    """Start a broker of `kind` for the length of the block.

    Raises ApacheKafkaUnavailableError when Apache Kafka cannot run here (no Java or
    Maven): callers skip, or fail when `OUTCOMES_REQUIRE_APACHE_KAFKA=1` (CI)."""
    with _start(kind) as broker:
        STARTED.setdefault(kind, broker.description)
        yield broker


def _start(kind: str) -> AbstractContextManager[Broker]:
    if kind == "embedded":
        return EmbeddedBroker()
    if kind == "apache-kafka" and containers_requested():
        from tests.support.containers import ContainerKafka

        return ContainerKafka()
    if kind == "apache-kafka":
        from tests.support.apache_kafka import ApacheKafka

        return ApacheKafka()
    raise ValueError(f"unknown broker kind {kind!r}: one of {', '.join(KINDS)}")
