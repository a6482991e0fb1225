"""Test dependencies as containers, through testcontainers and any Docker-compatible API
(`DOCKER_HOST`; Debian's podman serves one: `.ci/podman-service`).

With `OUTCOMES_TEST_CONTAINERS=1` the fixtures start Apache Kafka (image `apache/kafka`)
and PostgreSQL (image `postgres`) this way instead of as local processes. The images come
from the engine's registry, or locally built ones named by `OUTCOMES_TEST_KAFKA_IMAGE` and
`OUTCOMES_TEST_POSTGRES_IMAGE`. `tansu_image` builds the embedded broker's image from its
static binary (FROM scratch), which needs no registry at all.

Containers share the host's network: each listens on a free loopback port of its own, so
the address a broker advertises is the one clients reach, with no port mapping between.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from testcontainers.core.container import DockerContainer

from collector.embedded import broker_binary, create_topics, free_port
from tests.support.service import Service

KAFKA_IMAGE = os.environ.get("OUTCOMES_TEST_KAFKA_IMAGE", "apache/kafka:4.1.1")
POSTGRES_IMAGE = os.environ.get("OUTCOMES_TEST_POSTGRES_IMAGE", "postgres:17")
TANSU_IMAGE = "localhost/outcomes-tansu:test"


def engine_error() -> str | None:
    """Why no Docker-compatible engine can be used here, or None when one answers."""
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return "no Docker-compatible engine (DOCKER_HOST unset; see .ci/podman-service)"
    try:
        import docker

        docker.from_env(timeout=10).ping()
    except Exception as error:  # noqa: BLE001 - any failure means: not usable
        return f"the container engine at {os.environ.get('DOCKER_HOST')} did not answer: {error}"
    return None


def tansu_image() -> str:
    """Build (once per engine) an image holding only the embedded broker's static binary."""
    import docker

    client = docker.from_env(timeout=120)
    with tempfile.TemporaryDirectory() as context:
        shutil.copy(broker_binary(), Path(context) / "tansu")
        (Path(context) / "Containerfile").write_text(
            'FROM scratch\nCOPY tansu /tansu\nENTRYPOINT ["/tansu"]\n'
        )
        client.images.build(path=context, dockerfile="Containerfile", tag=TANSU_IMAGE, rm=True)
    return TANSU_IMAGE


def wait_for_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout_s}s")


class ContainerBroker(Service):
    """A Kafka-protocol broker in a container on the host network; a context manager."""

    kind = "apache-kafka"

    def __init__(self, image: str, startup_timeout_s: float = 90.0) -> None:
        self.image = image
        self.port = free_port()
        self.bootstrap_servers = f"127.0.0.1:{self.port}"
        self._startup_timeout_s = startup_timeout_s
        self._container: DockerContainer | None = None

    @property
    def description(self) -> str:
        return f"{self.image} via testcontainers ({self.bootstrap_servers})"

    @property
    def pid(self) -> int | None:
        """The container's main process as the host sees it (for tests that pause it)."""
        if self._container is None:
            return None
        wrapped = self._container.get_wrapped_container()
        wrapped.reload()
        return int(wrapped.attrs["State"]["Pid"]) or None

    @property
    def log_path(self) -> Path:
        return Path(f"(docker logs of {self.image})")

    def configure(self, container: DockerContainer) -> DockerContainer:
        raise NotImplementedError

    def start(self) -> ContainerBroker:
        container = DockerContainer(self.image).with_kwargs(network_mode="host")
        self._container = self.configure(container)
        self._container.start()
        wait_for_port(self.port, self._startup_timeout_s)
        deadline = time.monotonic() + self._startup_timeout_s
        while True:  # serving metadata, not only listening
            try:
                create_topics(self.bootstrap_servers, {"outcomes.started": 1})
                return self
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def create_topics(self, partitions: dict[str, int]) -> None:
        create_topics(self.bootstrap_servers, partitions)

    def stop(self) -> None:
        if self._container is not None:
            self._container.stop()
            self._container = None


class ContainerKafka(ContainerBroker):
    """Apache Kafka's official image, one KRaft node."""

    def __init__(self, image: str = KAFKA_IMAGE) -> None:
        super().__init__(image)
        self.controller_port = free_port()

    def configure(self, container: DockerContainer) -> DockerContainer:
        settings: dict[str, Any] = {
            "KAFKA_NODE_ID": 1,
            "KAFKA_PROCESS_ROLES": "broker,controller",
            "KAFKA_LISTENERS": f"PLAINTEXT://127.0.0.1:{self.port},"
            f"CONTROLLER://127.0.0.1:{self.controller_port}",
            "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://127.0.0.1:{self.port}",
            "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "KAFKA_CONTROLLER_QUORUM_VOTERS": f"1@127.0.0.1:{self.controller_port}",
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": 1,
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": 1,
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": 1,
            "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": 1,
            "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": 1,
            "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": 0,
        }
        for name, value in settings.items():
            container = container.with_env(name, str(value))
        return container


class ContainerTansu(ContainerBroker):
    """The embedded broker (Tansu) from a locally built FROM-scratch image."""

    kind = "embedded"

    def __init__(self, image: str = TANSU_IMAGE) -> None:
        super().__init__(image, startup_timeout_s=30.0)

    def configure(self, container: DockerContainer) -> DockerContainer:
        url = f"tcp://127.0.0.1:{self.port}"
        return container.with_command(
            ["broker", "--listener-url", url, "--advertised-listener-url", url]
        )


@contextlib.contextmanager
def container_postgres(image: str = POSTGRES_IMAGE) -> Iterator[str]:
    """DSN of database `test` in a PostgreSQL container on the host network."""
    port = free_port()
    container = (
        DockerContainer(image)
        .with_kwargs(network_mode="host")
        .with_env("POSTGRES_HOST_AUTH_METHOD", "trust")
        .with_env("POSTGRES_DB", "test")
        .with_env("PGPORT", str(port))
        .with_command(["postgres", "-c", "fsync=off", "-c", "max_connections=200"])
    )
    container.start()
    try:
        wait_for_port(port, 60)
        yield f"postgresql://postgres@127.0.0.1:{port}/test"
    finally:
        container.stop()
