"""`POST /v1/otlp/{integration}/v1/traces` and `…/v1/logs`: OpenTelemetry GenAI telemetry
of an AI application, as a standard OTLP/HTTP exporter sends it, turned into outcome events.

Checks in this order: the integration exists and is `type: otlp` (404), the bearer token is
its secret (401), the Content-Type is OTLP protobuf or JSON (415), the body fits — after
gzip too (413), it decodes (400). Then every item (span, log record) is translated on its
own (collector.integrations.otlp) and judged by the collector's time rules; the events
are produced, unmapped GenAI items dead-lettered (replayable), and the answer is 200 with
`partial_success` counting the items refused, with the first reasons (a client must not
retry those). 503 with Retry-After while the broker does not acknowledge: nothing of the
request counts, the exporter retries it whole. Answers are in the request's encoding.
"""

from __future__ import annotations

import logging
import zlib
from collections import Counter as Tally
from collections.abc import Callable
from datetime import datetime, timedelta

from google.protobuf.message import Message
from google.rpc.status_pb2 import Status
from prometheus_client import CollectorRegistry, Counter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from collector.declarations.catalog import Catalog
from collector.engine.timing import timing_problem
from collector.integrations import otlp
from collector.integrations.auth import authentic
from collector.integrations.declaration import IntegrationDeclaration
from collector.integrations.model import MalformedError
from outcomes.gateway.hooks import Integrations
from outcomes.gateway.refusals import RefusedError, read_body
from schemas.binding import KafkaRecord, to_binary
from schemas.dead_letter import delivery_record

log = logging.getLogger(__name__)
MAX_REASONS = 5
"""How many distinct reasons `partial_success.error_message` lists."""


class OtlpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.items = Counter(
            "outcomes_gateway_otlp_items",
            "OTLP items (spans, log records) by integration, signal and result: usage (a model"
            " call), run (an agent or workflow invocation), review, ignored (not counted: not"
            " GenAI, agent bookkeeping, no token usage), unmapped (no rule: dead-lettered),"
            " invalid (refused in partial_success).",
            ["integration", "signal", "result"],
            registry=registry,
        )


class OtlpRefusedError(Exception):
    """A whole request refused with `status` and a google.rpc.Status body."""

    def __init__(self, status: int, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class OtlpIntake:
    """The routes' handler. `send(topic, records)` blocks until the broker acknowledged."""

    def __init__(
        self,
        integrations: Integrations,
        send: Callable[[str, list[KafkaRecord]], None],
        metrics: OtlpMetrics,
        *,
        topic: str,
        currency: str,
        grace: timedelta,
        max_body_bytes: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._integrations = integrations
        self._send = send
        self._metrics = metrics
        self._topic = topic
        self._dead_letter_topic = f"{topic}.dlq"
        self._currency = currency
        self._grace = grace
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    async def traces(self, request: Request) -> Response:
        return await self._handle(request, "traces")

    async def logs(self, request: Request) -> Response:
        return await self._handle(request, "logs")

    async def _handle(self, request: Request, signal: otlp.Signal) -> Response:
        media = otlp.JSON
        try:
            integration = self._integration(str(request.path_params["integration"]))
            self._authenticate(integration, request)
            try:
                media = otlp.media_type(request.headers.get("content-type", ""))
            except otlp.UnsupportedMediaError as error:
                raise OtlpRefusedError(415, str(error)) from None
            body = await self._body(request)
            try:
                decoded = (
                    otlp.decode_traces(body, media)
                    if signal == "traces"
                    else otlp.decode_logs(body, media)
                )
            except MalformedError as error:
                raise OtlpRefusedError(400, str(error)) from None
            return await self._export(integration, signal, decoded, media)
        except OtlpRefusedError as refusal:
            return _status_response(refusal, media)

    def _integration(self, name: str) -> IntegrationDeclaration:
        integration = self._integrations.get(name)
        if integration is None or integration.spec.type != "otlp":
            raise OtlpRefusedError(404, f"no integration {name!r} of type otlp is declared")
        return integration

    def _authenticate(self, integration: IntegrationDeclaration, request: Request) -> None:
        secret = integration.spec.secret.value()
        headers = {"authorization": request.headers.get("authorization", "")}
        if secret is None:
            log.error("integration %r: its secret is not set", integration.name)
        if secret is None or not authentic("otlp", headers, b"", secret):
            raise OtlpRefusedError(
                401, f"send the secret of {integration.name!r} as a bearer token"
            )

    async def _body(self, request: Request) -> bytes:
        limit = self._max_body_bytes
        try:
            body = await read_body(request, limit)
        except RefusedError as refusal:
            raise OtlpRefusedError(refusal.status, str(refusal)) from None
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("", "identity"):
            return body
        if encoding != "gzip":
            raise OtlpRefusedError(415, f"Content-Encoding {encoding!r}: OTLP/HTTP takes gzip")
        inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            plain = inflate.decompress(body, limit + 1)
        except zlib.error as error:
            raise OtlpRefusedError(400, f"body is not gzip: {error}") from None
        if len(plain) > limit:
            raise OtlpRefusedError(413, f"body larger than {limit} bytes once decompressed")
        if not inflate.eof:
            raise OtlpRefusedError(400, "body is not gzip: truncated")
        return plain

    async def _export(
        self,
        integration: IntegrationDeclaration,
        signal: otlp.Signal,
        decoded: Message,
        media: str,
    ) -> Response:
        items = list(
            otlp.span_items(integration, decoded, self._currency)  # type: ignore[arg-type]
            if signal == "traces"
            else otlp.log_items(integration, decoded)  # type: ignore[arg-type]
        )
        catalog = self._integrations.catalog()
        items = [self._judged(item, catalog) for item in items]
        events = [to_binary(item.event) for item in items if item.event is not None]
        letters = [
            delivery_record(integration.name, [("content-type", otlp.JSON)], item.letter,
                            "unmapped", item.detail)
            for item in items
            if item.result == "unmapped" and item.letter is not None
            and integration.spec.dead_letters_unmatched
        ]  # fmt: skip
        if not integration.spec.dead_letters_unmatched:  # `unmatched: ignore`
            items = [otlp.Item("ignored", detail=i.detail) if i.result == "unmapped" else i
                     for i in items]  # fmt: skip
        try:
            if events:
                await run_in_threadpool(self._send, self._topic, events)
            if letters:
                await run_in_threadpool(self._send, self._dead_letter_topic, letters)
        except Exception as error:  # the broker failed in any way: the exporter retries
            log.warning("broker did not acknowledge an OTLP export: %s", error)
            raise OtlpRefusedError(503, f"broker unavailable: {error}", retry_after_s=5) from error
        results = Tally(item.result for item in items)
        for result, count in results.items():
            self._metrics.items.labels(integration.name, signal, result).inc(count)
        refused = [item.detail for item in items if item.result == "invalid"]
        answer = otlp.response(signal, len(refused), _summary(refused))
        return Response(otlp.encode(answer, media), 200, media_type=media)

    def _judged(self, item: otlp.Item, catalog: Catalog) -> otlp.Item:
        """The collector's time rules, said now rather than dead-lettered later."""
        event = item.event
        if event is None:
            return item
        kind = catalog.profile(event.project).period_kind
        late = timing_problem(event, kind, self._clock(), self._grace)
        if late is None:
            return item
        return otlp.Item("invalid", detail=f"{event.id}: {late[0].value}: {late[1]}")


def _summary(reasons: list[str]) -> str:
    if not reasons:
        return ""
    distinct = list(dict.fromkeys(reasons))
    shown = "; ".join(distinct[:MAX_REASONS])
    more = len(distinct) - MAX_REASONS
    return shown + (f"; and {more} more" if more > 0 else "")


def _status_response(refusal: OtlpRefusedError, media: str) -> Response:
    status = Status(code=_rpc_code(refusal.status), message=str(refusal))
    headers = {"Retry-After": str(refusal.retry_after_s)} if refusal.retry_after_s else None
    if refusal.status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="outcomes"'}
    return Response(otlp.encode(status, media), refusal.status, headers=headers, media_type=media)


def _rpc_code(status: int) -> int:
    """The google.rpc.Code of an HTTP status (INVALID_ARGUMENT, UNAUTHENTICATED, …)."""
    return {400: 3, 401: 16, 404: 5, 413: 3, 415: 3, 429: 8, 503: 14}.get(status, 2)
