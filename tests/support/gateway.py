"""An in-process gateway serving a declarations directory's hooks, for integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from collector.embedded import free_port
from outcomes.gateway.app import GatewaySettings
from outcomes.gateway.server import ThreadedServer, build_server
from outcomes.gateway.tokens import digest
from tests.support.brokers import Broker


@contextmanager
def hook_gateway(broker: Broker, topic: str, targets: Path, workdir: Path) -> Iterator[str]:
    """The gateway's base URL; its /v1/events token is unused (hooks authenticate their way)."""
    tokens = workdir / "tokens.yaml"
    tokens.write_text(f"tokens:\n  - {{name: ci, sha256: {digest('unused')}, projects: ['*']}}\n")
    port = free_port()
    settings = GatewaySettings(topic=topic, targets=targets)
    server = ThreadedServer(
        build_server(broker.bootstrap_servers, tokens, "127.0.0.1", port, settings)
    )
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
