"""HTTP endpoint: `/metrics` (Prometheus text or OpenMetrics), `/healthz`, `/readyz`.

Runs on its own daemon threads; it only reads the latest immutable snapshot and calls
the readiness probe, never touching ingestion state. Content negotiation follows
prometheus_client (OpenMetrics when the scraper asks for it, as Prometheus does).
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from prometheus_client.exposition import choose_encoder

from exporters.prometheus.exposition import Renderer
from exporters.prometheus.webconfig import Authenticator, WebConfig
from schemas.snapshot import Snapshot

log = logging.getLogger(__name__)

Readiness = Callable[[], list[str]]
"""Returns the reasons the collector is not ready; empty when it is."""
Latest = Callable[[], Snapshot | None]
"""Returns the snapshot to expose (None before the first one)."""


class MetricsServer:
    def __init__(
        self,
        latest: Latest,
        host: str,
        port: int,
        readiness: Readiness,
        web_config: WebConfig | None = None,
    ) -> None:
        config = web_config or WebConfig()
        authenticator = Authenticator(config) if config.requires_auth else None
        handler = _handler_for(latest, readiness, authenticator)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        context = config.ssl_context()
        self.scheme = "https" if context else "http"
        if context is not None:
            # the handshake happens on the handler's thread: a client that never completes
            # it cannot block accepting other scrapes
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    server_version = "outcomes-collector"
    latest: Latest
    renderer: Renderer
    readiness: Readiness
    authenticator: Authenticator | None = None

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._metrics()
        elif path == "/healthz":
            self._reply(200, b"ok\n")
        elif path == "/readyz":
            problems = type(self).readiness()
            body = ("ready\n" if not problems else "\n".join(problems) + "\n").encode()
            self._reply(503 if problems else 200, body)
        else:
            self._reply(404, b"not found: try /metrics, /healthz or /readyz\n")

    def _metrics(self) -> None:
        authenticator = self.authenticator
        if authenticator and not authenticator.allows(self.headers.get("Authorization")):
            self._reply(
                401, b"unauthorized\n", extra={"WWW-Authenticate": 'Basic realm="outcomes"'}
            )
            return
        _, content_type = choose_encoder(self.headers.get("Accept", ""))
        openmetrics = content_type.startswith("application/openmetrics-text")
        query = parse_qs(urlsplit(self.path).query)
        names = query.get("name[]")
        body = self.renderer.render(type(self).latest(), openmetrics, names)
        gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
        if gzipped:
            body = gzip.compress(body, compresslevel=1)
        self._reply(200, body, content_type, {"Content-Encoding": "gzip"} if gzipped else None)

    def _reply(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/plain; charset=utf-8",
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("http: " + format, *args)


def _handler_for(
    latest: Latest, readiness: Readiness, authenticator: Authenticator | None
) -> type[BaseHTTPRequestHandler]:
    attributes = {
        "latest": staticmethod(latest),
        "renderer": Renderer(),
        "readiness": staticmethod(readiness),
        "authenticator": authenticator,
    }
    return type("Handler", (_Handler,), attributes)
