"""`outcomes gateway`: HTTP ingest of outcome events (CloudEvents HTTP binding) to Kafka.

`POST /v1/events` answers 202 only after the broker acknowledged every event of the
request; 400 lists each invalid event; 401 unknown token; 403 project not allowed for
the token; 413 body too large; 429 over the token's rate limit; 503 broker unavailable
(retry). A request is all or nothing: no event of a refused request is produced.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collector.gateway.binding import Problem, decode_body, validate
from collector.gateway.hooks import HookMetrics, Hooks, Integrations
from collector.gateway.openapi import OPENAPI
from collector.gateway.refusals import RefusedError, read_body
from collector.gateway.tokens import Grant, TokenBook
from collector.sdk.delivery import Sender
from schemas.binding import KafkaRecord, to_binary
from schemas.envelope import OutcomeEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatewaySettings:
    topic: str = "outcomes.events"
    currency: str = "USD"
    max_body_bytes: int = 1_048_576
    rate_per_s: float | None = None
    """Default per-token request rate (None: unlimited unless the token sets one)."""
    targets: Path | None = None
    """Declarations directory: its `kind: Integration` documents serve /v1/hooks/{name}."""


class Producer:
    """Lazily connected, shared sender; `send` blocks until acknowledged (run off-loop)."""

    def __init__(self, connect: Callable[[], Sender], topic: str) -> None:
        self._connect = connect
        self._topic = topic
        self._sender: Sender | None = None

    def send(self, events: list[OutcomeEvent]) -> None:
        self.send_records(self._topic, [to_binary(e) for e in events])

    def send_records(self, topic: str, records: list[KafkaRecord]) -> None:
        if self._sender is None:
            self._sender = self._connect()
        try:
            self._sender.send_batch(topic, records)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close()
            self._sender = None


def _authorize(request: Request, tokens: TokenBook) -> Grant:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    grant = tokens.grant_for(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        raise RefusedError(401, "missing or unknown bearer token")
    wait_s = grant.limit.take() if grant.limit else 0.0
    if wait_s:
        raise RefusedError(
            429, f"rate limit of token {grant.name!r} exceeded", retry_after_s=wait_s
        )
    return grant


def _events(request: Request, body: bytes, currency: str) -> list[OutcomeEvent]:
    decoded = decode_body(request.headers, body)
    if isinstance(decoded, Problem):
        raise RefusedError(400, "not a CloudEvents request", events=[decoded.as_json()])
    results = [validate(document, i, currency) for i, document in enumerate(decoded)]
    problems = [r.as_json() for r in results if isinstance(r, Problem)]
    if problems:
        raise RefusedError(400, "invalid events; none were accepted", events=problems)
    if not results:
        raise RefusedError(400, "empty batch")
    return [r for r in results if isinstance(r, OutcomeEvent)]


def _check_projects(grant: Grant, events: list[OutcomeEvent]) -> None:
    foreign = sorted({e.project for e in events if not grant.allows(e.project)})
    if foreign:
        raise RefusedError(403, f"token {grant.name!r} may not send for: {', '.join(foreign)}")


def create_app(settings: GatewaySettings, tokens: TokenBook, producer: Producer) -> Starlette:
    registry = CollectorRegistry()
    hooks = Hooks(
        Integrations(settings.targets),
        producer.send_records,
        HookMetrics(registry),
        settings.topic,
        settings.max_body_bytes,
    )

    async def ingest(request: Request) -> Response:
        try:
            grant = _authorize(request, tokens)
            body = await read_body(request, settings.max_body_bytes)
            events = _events(request, body, settings.currency)
            _check_projects(grant, events)
            await run_in_threadpool(producer.send, events)
        except RefusedError as refusal:
            return refusal.response()
        except Exception as error:  # noqa: BLE001 - the client retries; nothing was accepted
            log.warning("broker did not acknowledge the request: %s", error)
            body_ = {"error": f"broker unavailable: {error}"}
            return JSONResponse(body_, status_code=503, headers={"Retry-After": "5"})
        return JSONResponse({"accepted": len(events), "ids": [e.id for e in events]}, 202)

    async def healthz(request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(producer.close)

    return Starlette(
        routes=[
            Route("/v1/events", ingest, methods=["POST"]),
            Route("/v1/hooks/{integration}", hooks.__call__, methods=["POST"]),
            Route("/metrics", metrics),
            Route("/healthz", healthz),
            Route("/openapi.json", openapi),
        ],
        lifespan=lifespan,
    )
