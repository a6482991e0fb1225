"""`outcomes gateway`: HTTP ingest of outcome events (CloudEvents HTTP binding) to Kafka.

`POST /v1/events`, checks in this order: 401 unknown token, 429 over the token's rate
limit, 413 body too large, 400 not a CloudEvents request, 403 a project the token may not
send for (before any other problem of the events), 400 listing each invalid event —
including `future` and `too_late` by the collector's own rules (the project's declared
period from `--targets`, the grace window) — then 202 only after the broker acknowledged
every event; 503 broker unavailable (retry). An event without `time` gets the receipt time
(an availability window: its end). A request is all or nothing: no event of a refused
request is produced. Every request is logged (one structured line, no credentials) and
counted on `/metrics`.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collector.declarations.catalog import Catalog
from collector.engine.timing import timing_problem
from collector.runtime import utc_now
from outcomes.gateway.access import AccessLog, GatewayMetrics
from outcomes.gateway.hooks import HookMetrics, Hooks, Integrations
from outcomes.gateway.openapi import OPENAPI
from outcomes.gateway.otlp import OtlpIntake, OtlpMetrics
from outcomes.gateway.readiness import BrokerReadiness, readyz
from outcomes.gateway.refusals import RefusedError, read_body
from outcomes.gateway.tokens import Grant, TokenBook
from outcomes.sdk.delivery import Sender
from schemas.binding import KafkaRecord, to_binary
from schemas.envelope import OutcomeEvent
from schemas.http_binding import Problem, decode_body, project_named, validate, with_time

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatewaySettings:
    topic: str = "outcomes.events"
    currency: str = "USD"
    max_body_bytes: int = 1_048_576
    rate_per_s: float | None = None
    """Default per-token request rate (None: unlimited unless the token sets one)."""
    targets: Path | None = None
    """Declarations directory: its `kind: Integration` documents serve /v1/hooks/{name};
    its projects' periods judge `too_late`."""
    grace: timedelta = timedelta(days=7)
    """The collector's grace window: older periods take no events."""
    clock: Callable[[], datetime] = utc_now
    """Now, for the time rules (a test or a replayed story may run behind the wall clock)."""
    ack_timeout_s: float = 5.0
    """A request whose events the broker has not acknowledged by then is answered 503 with
    Retry-After (senders such as GitHub give up after ~10 s)."""
    drain_s: float = 10.0
    """On SIGTERM: no new connections; requests in flight get this long to finish."""
    metrics_auth: Callable[[str | None], bool] | None = None
    """Whether an Authorization header may read /metrics (None: open), as the web-config's
    basic_auth_users and bearer_tokens_sha256 say."""


class Producer:
    """Lazily connected, shared sender; `send` blocks until acknowledged (run off-loop).

    A failed sender is dropped at once (closed in the background: its undelivered records
    are the failed request's, which the client retries); a new one connects on a later
    request once `readiness` finds the broker answering — never while it is away (a client
    built then waits for it, and leaks its sockets when it gives up), so requests meanwhile
    are refused at once. `readiness` hears of every outcome."""

    def __init__(
        self,
        connect: Callable[[], Sender],
        topic: str,
        readiness: BrokerReadiness | None = None,
    ) -> None:
        self._connect = connect
        self._topic = topic
        self._sender: Sender | None = None
        self.readiness = readiness

    def send(self, events: list[OutcomeEvent]) -> None:
        self.send_records(self._topic, [to_binary(e) for e in events])

    def send_records(self, topic: str, records: list[KafkaRecord]) -> None:
        readiness = self.readiness
        try:
            if self._sender is None:
                if readiness is not None:
                    ok, detail = readiness.check()
                    if not ok:
                        raise ConnectionError(detail)
                self._sender = self._connect()
            self._sender.send_batch(topic, records)
        except Exception as error:
            failed, self._sender = self._sender, None
            if failed is not None:
                threading.Thread(target=_close_quietly, args=(failed,), daemon=True).start()
            if readiness is not None and not isinstance(error, ConnectionError):
                readiness.produced(error)
            raise
        if readiness is not None:
            readiness.produced(None)

    def close(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            _close_quietly(sender)


def _close_quietly(sender: Sender) -> None:
    """Close a sender; records it could not deliver by now were refused to their senders
    already (503), so a broker that is still away only makes this log."""
    try:
        sender.close()
    except KafkaError as error:
        log.warning("producer closed with records undelivered: %s", error)


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


def _documents(request: Request, body: bytes) -> list[dict[str, Any]]:
    decoded = decode_body(request.headers, body)
    if isinstance(decoded, Problem):
        raise RefusedError(400, "not a CloudEvents request", events=[decoded.as_json()])
    if not decoded:
        raise RefusedError(400, "empty batch")
    return decoded


def _check_projects(grant: Grant, documents: list[dict[str, Any]]) -> None:
    """403 before anything else about the events: a token limited to `infra-*` posting
    for another project learns that first, not that a field is missing."""
    named = {project_named(document) for document in documents}
    foreign = sorted(p for p in named if p is not None and not grant.allows(p))
    if foreign:
        raise RefusedError(403, f"token {grant.name!r} may not send for: {', '.join(foreign)}")


def _events(
    documents: list[dict[str, Any]], settings: GatewaySettings, catalog: Catalog, now: datetime
) -> list[OutcomeEvent]:
    results = []
    for index, document in enumerate(documents):
        result = validate(with_time(document, now), index, settings.currency)
        if isinstance(result, OutcomeEvent):
            kind = catalog.profile(result.project).period_kind
            late = timing_problem(result, kind, now, settings.grace)
            if late is not None:
                result = Problem(index, result.id, late[0].value, late[1])
        results.append(result)
    problems = [r.as_json() for r in results if isinstance(r, Problem)]
    if problems:
        raise RefusedError(400, "invalid events; none were accepted", events=problems)
    return [r for r in results if isinstance(r, OutcomeEvent)]


def create_app(settings: GatewaySettings, tokens: TokenBook, producer: Producer) -> Starlette:
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry)
    integrations = Integrations(settings.targets)
    hooks = Hooks(
        integrations,
        producer.send_records,
        HookMetrics(registry),
        settings.topic,
        settings.max_body_bytes,
        grace=settings.grace,
        clock=settings.clock,
    )

    intake = OtlpIntake(
        integrations,
        producer.send_records,
        OtlpMetrics(registry),
        topic=settings.topic,
        currency=settings.currency,
        grace=settings.grace,
        max_body_bytes=settings.max_body_bytes,
        clock=settings.clock,
    )

    async def ingest(request: Request) -> Response:
        now = settings.clock()
        try:
            grant = _authorize(request, tokens)
            request.state.token = grant.name
            body = await read_body(request, settings.max_body_bytes)
            documents = _documents(request, body)
            _check_projects(grant, documents)
            events = _events(documents, settings, integrations.catalog(), now)
            await run_in_threadpool(producer.send, events)
        except RefusedError as refusal:
            metrics.refused(refusal)
            return refusal.response()
        except Exception as error:  # noqa: BLE001 - the client retries; nothing was accepted
            log.warning("broker did not acknowledge the request: %s", error)
            body_ = {"error": f"broker unavailable: {error}"}
            return JSONResponse(body_, status_code=503, headers={"Retry-After": "5"})
        metrics.events.labels("accepted").inc(len(events))
        request.state.events = len(events)
        return JSONResponse({"accepted": len(events), "ids": [e.id for e in events]}, 202)

    async def healthz(request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    async def exposition(request: Request) -> Response:
        allows = settings.metrics_auth
        if allows is not None and not allows(request.headers.get("authorization")):
            return Response(
                "credentials required\n", 401,
                headers={"WWW-Authenticate": 'Basic realm="outcomes gateway"'},
            )  # fmt: skip
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(producer.close)
        if producer.readiness is not None:
            producer.readiness.close()

    return Starlette(
        routes=[
            Route("/v1/events", ingest, methods=["POST"]),
            Route("/v1/hooks/{integration}", hooks.__call__, methods=["POST"]),
            Route("/v1/otlp/{integration}/v1/traces", intake.traces, methods=["POST"]),
            Route("/v1/otlp/{integration}/v1/logs", intake.logs, methods=["POST"]),
            Route("/metrics", exposition),
            Route("/healthz", healthz),
            Route("/readyz", functools.partial(readyz, producer.readiness)),
            Route("/openapi.json", openapi),
        ],
        lifespan=lifespan,
        middleware=[Middleware(AccessLog, metrics=metrics)],
    )
