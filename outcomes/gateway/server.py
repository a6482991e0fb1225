"""Running the gateway with uvicorn (in the foreground, or on a thread for tests)."""

from __future__ import annotations

import ssl
import threading
import time
from pathlib import Path
from types import FrameType

import uvicorn

from outcomes.gateway.app import GatewaySettings, Producer, create_app
from outcomes.gateway.readiness import BrokerReadiness
from outcomes.gateway.tokens import TokenBook
from outcomes.sdk.delivery import KafkaSender


def build_server(
    bootstrap_servers: str,
    tokens_file: Path | None,
    host: str,
    port: int,
    settings: GatewaySettings,
    *,
    tls: ssl.SSLContext | None = None,
) -> uvicorn.Server:
    """`tokens_file` None: no token is valid (/v1/events answers 401; hooks and OTLP
    authenticate with their integrations' secrets). `tls`: serve HTTPS with it (the
    web-config's `tls_server_config`: certificate, minimum version, client CA)."""
    tokens = (
        TokenBook({}) if tokens_file is None else TokenBook.load(tokens_file, settings.rate_per_s)
    )
    readiness = BrokerReadiness(bootstrap_servers, settings.ack_timeout_s)
    producer = Producer(
        lambda: KafkaSender(bootstrap_servers, ack_timeout_s=settings.ack_timeout_s),
        settings.topic,
        readiness,
    )
    app = create_app(settings, tokens, producer)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False,
        timeout_graceful_shutdown=max(int(settings.drain_s), 1),
    )  # fmt: skip
    if tls is not None:
        config.load()
        config.ssl = tls  # uvicorn serves the context as built (it reads no web-config)
    return Draining(config, readiness)


class Draining(uvicorn.Server):
    """uvicorn's server, saying "not ready" from the moment it is asked to stop."""

    def __init__(self, config: uvicorn.Config, readiness: BrokerReadiness) -> None:
        super().__init__(config)
        self.readiness = readiness

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.readiness.stopping = True
        super().handle_exit(sig, frame)


class ThreadedServer:
    """uvicorn on a daemon thread; `start` returns once it listens."""

    def __init__(self, server: uvicorn.Server) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.run, name="gateway", daemon=True)

    def start(self, timeout_s: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("gateway did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(10)
