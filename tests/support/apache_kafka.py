"""Apache Kafka 4.x as a local process: one KRaft node (broker and controller).

The broker's jars come from Maven Central: `mvn dependency:copy-dependencies` on the small
pom beside this module copies them once into a cache directory (`OUTCOMES_KAFKA_CACHE`,
default `~/.cache/outcomes`), keyed by the Kafka version the pom names. Each broker gets
a temporary directory, storage formatted with Kafka's own storage tool, free loopback
ports and settings for a single node (replication factor 1, no initial rebalance delay).
Its log is `server.log` in that directory.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from collector.embedded import create_topics, free_port
from tests.support.service import Service

RUNTIME = Path(__file__).parent / "apache-kafka"
POM = RUNTIME / "pom.xml"
MAVEN_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64. Never one that begins with
    `-`: the storage tool's argument parser would read it as an option (as Kafka's own
    `Uuid.randomUuid` avoids). One start in 64 failed with "formatting storage failed"."""
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


class ApacheKafkaUnavailableError(RuntimeError):
    """Java or Maven is missing, or the jars could not be resolved."""


def kafka_version() -> str:
    found = ET.parse(POM).find("m:properties/m:kafka.version", MAVEN_NS)
    assert found is not None and found.text, "the pom names kafka.version"
    return found.text


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    candidate = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not candidate or not Path(candidate).exists():
        raise ApacheKafkaUnavailableError("java not found (Apache Kafka 4.x needs Java 17+)")
    return candidate


def runtime_jars() -> Path:
    """Directory of the broker's jars, resolved through Maven on first use."""
    cache = Path(os.environ.get("OUTCOMES_KAFKA_CACHE", Path.home() / ".cache" / "outcomes"))
    lib = cache / f"apache-kafka-{kafka_version()}" / "lib"
    if (lib / ".complete").exists():
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ApacheKafkaUnavailableError(
            "mvn not found: Maven resolves Apache Kafka's jars from Maven Central"
        )
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="lib-", dir=cache))
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
         f"-DoutputDirectory={staging}", "-DincludeScope=runtime"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise ApacheKafkaUnavailableError(
            f"resolving Apache Kafka {kafka_version()} failed:\n{result.stdout[-2000:]}"
        )
    (staging / ".complete").touch()
    shutil.rmtree(lib, ignore_errors=True)
    lib.parent.mkdir(exist_ok=True)
    staging.rename(lib)
    return lib


SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def sasl_properties(port: int, users: dict[str, str]) -> dict[str, str]:
    """A SASL_PLAINTEXT listener taking PLAIN and SCRAM for `users` (name -> password)."""
    plain_users = " ".join(f'user_{name}="{password}"' for name, password in users.items())
    listener = "listener.name.sasl_plaintext"
    return {
        "sasl.enabled.mechanisms": ",".join(SASL_MECHANISMS),
        f"{listener}.plain.sasl.jaas.config": (
            f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};"
        ),
        **{
            f"{listener}.{mechanism.lower()}.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            )
            for mechanism in SASL_MECHANISMS[1:]
        },
    }


def single_node_properties(
    directory: Path, port: int, controller_port: int, sasl_port: int | None = None
) -> dict[str, str]:
    listeners = f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}"
    advertised = f"PLAINTEXT://127.0.0.1:{port}"
    if sasl_port is not None:
        listeners += f",SASL_PLAINTEXT://127.0.0.1:{sasl_port}"
        advertised += f",SASL_PLAINTEXT://127.0.0.1:{sasl_port}"
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": listeners,
        "advertised.listeners": advertised,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": (
            "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
        ),
        "log.dirs": str(directory / "data"),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # a group's first join completes at once (the 3 s default suits big fleets)
        "group.initial.rebalance.delay.ms": "0",
    }


class ApacheKafka(Service):
    """Starts Apache Kafka on `127.0.0.1:<free port>`; use as a context manager.

    With `sasl_users` (name -> password) it also serves a SASL_PLAINTEXT listener at
    `sasl_bootstrap_servers` taking PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for them."""

    kind = "apache-kafka"

    def __init__(
        self,
        startup_timeout_s: float = 60.0,
        heap: str = "768m",
        sasl_users: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.controller_port = free_port()
        self.bootstrap_servers = f"127.0.0.1:{self.port}"
        self.sasl_users = dict(sasl_users or {})
        self.sasl_port = free_port() if self.sasl_users else None
        self.sasl_bootstrap_servers = f"127.0.0.1:{self.sasl_port}" if self.sasl_port else None
        self.version = kafka_version()
        self._startup_timeout_s = startup_timeout_s
        self._heap = heap
        self._directory: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def description(self) -> str:
        return f"Apache Kafka {self.version} (KRaft, {self.bootstrap_servers})"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def log_path(self) -> Path:
        assert self._directory is not None
        return self._directory / "server.log"

    def start(self) -> ApacheKafka:
        java, lib = java_binary(), runtime_jars()
        self._directory = Path(tempfile.mkdtemp(prefix="outcomes-kafka-"))
        config = self._directory / "server.properties"
        settings = single_node_properties(
            self._directory, self.port, self.controller_port, self.sasl_port
        )
        if self.sasl_port is not None:
            settings |= sasl_properties(self.sasl_port, self.sasl_users)
        config.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        jvm = [
            java, f"-Xms{self._heap}", f"-Xmx{self._heap}",
            f"-Dlog4j2.configurationFile={RUNTIME / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self._directory}", "-cp", f"{lib}/*",
        ]  # fmt: skip
        cluster_id = new_cluster_id()
        scram = [
            argument
            for mechanism in SASL_MECHANISMS[1:]
            for name, password in self.sasl_users.items()
            for argument in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
        ]
        formatted = subprocess.run(
            [*jvm, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config),
             *scram],
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if formatted.returncode != 0:
            raise ApacheKafkaUnavailableError(f"formatting storage failed: {formatted.stdout}")
        with (self._directory / "stdout.log").open("wb") as out:
            self._process = subprocess.Popen(
                [*jvm, "kafka.Kafka", str(config)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        self._wait_until_serving()
        return self

    def _wait_until_serving(self) -> None:
        """Listening is not enough: the broker answers metadata once it has registered."""
        deadline = time.monotonic() + self._startup_timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ApacheKafkaUnavailableError(f"Apache Kafka exited; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                create_topics(self.bootstrap_servers, {"outcomes.started": 1})
                return
            except Exception:  # noqa: BLE001 - not up yet, whatever the client says
                time.sleep(0.2)
        raise ApacheKafkaUnavailableError(
            f"Apache Kafka did not serve within {self._startup_timeout_s}s; see {self.log_path}"
        )

    def create_topics(self, partitions: dict[str, int]) -> None:
        create_topics(self.bootstrap_servers, partitions)

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
