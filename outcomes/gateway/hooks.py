"""`POST /v1/hooks/{integration}`: a tool's own webhook, authenticated its way, translated by
the Integration declaration's rules, produced to Kafka before the answer.

Order of checks: the integration exists (404), the body fits (413), the tool's signature
or credentials (401), the payload is the tool's JSON (400). Then 202 with the result:
`accepted` (events produced), `refused` (every event dated where the collector would refuse
it: a period closed past the grace window, or the future — named with its reason in the
answer's `refused`, as are the refused events of an accepted delivery), `ignored` (the
delivery carries no outcome), `unmatched` (no rule matched and the integration ignores
such deliveries: shared Alertmanager and PagerDuty receivers by default), `unmapped` (no
rule matched; dead-lettered) or `invalid` (a rule made an invalid event). Always 2xx once
authenticated and parsed: no tool retries a delivery that can never count, and none
disables the hook for it (GitLab does after repeated 4xx).
Unmapped and invalid deliveries go to the dead-letter topic raw, with the integration's
name and the request headers (credentials left out), so a replay after a rule change loses
nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from collector.declarations.catalog import Catalog
from collector.declarations.registry import DeclarationRegistry
from collector.engine.timing import timing_problem
from collector.integrations.auth import authentic
from collector.integrations.declaration import IntegrationDeclaration
from collector.integrations.deliver import receive, replayable_headers
from collector.integrations.model import Accepted, Ignored, MalformedError, Unmapped
from collector.runtime import utc_now
from outcomes.gateway.refusals import RefusedError, read_body
from schemas.binding import KafkaRecord, to_binary
from schemas.dead_letter import delivery_record
from schemas.envelope import OutcomeEvent

log = logging.getLogger(__name__)


class Integrations:
    """The Integration declarations of `--targets`, re-read at most every `poll_s`."""

    def __init__(self, directory: Path | None, poll_s: float = 2.0) -> None:
        self._registry = DeclarationRegistry(directory)
        self._poll_s = poll_s
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def get(self, name: str) -> IntegrationDeclaration | None:
        return self.catalog().integrations.get(name)

    def catalog(self) -> Catalog:
        """The declarations in force (projects too: their period kinds judge `too_late`)."""
        with self._lock:
            if time.monotonic() - self._checked >= self._poll_s:
                self._registry.reload()
                self._checked = time.monotonic()
            return self._registry.catalog


class HookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.hooks = Counter(
            "outcomes_gateway_hooks",
            "Webhook deliveries by integration and result (accepted, refused: every event"
            " dated where the collector would refuse it, ignored, unmatched: no rule and"
            " `unmatched: ignore`, unmapped: no rule, dead-lettered, unauthorized, invalid).",
            ["integration", "result"],
            registry=registry,
        )


SIGNED = {"github": "X-Hub-Signature-256", "pagerduty": "X-PagerDuty-Signature"}


def _unauthorized(integration: IntegrationDeclaration) -> str:
    """Why a delivery was refused, in the terms of the integration's scheme."""
    name, kind = integration.name, integration.spec.type
    if kind in SIGNED:
        return f"delivery not signed with {name!r}'s secret ({SIGNED[kind]})"
    if kind == "gitlab":
        return f"X-Gitlab-Token (or webhook-signature) does not match {name!r}'s secret"
    return f"missing or wrong credentials: send {name!r}'s secret as a bearer token"


class Hooks:
    """The route's handler. `send(topic, records)` blocks until the broker acknowledged."""

    def __init__(
        self,
        integrations: Integrations,
        send: Callable[[str, list[KafkaRecord]], None],
        metrics: HookMetrics,
        topic: str,
        max_body_bytes: int,
        *,
        grace: timedelta = timedelta(days=7),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._grace = grace
        self._clock = clock
        self._integrations = integrations
        self._send = send
        self._metrics = metrics
        self._topic = topic
        self._dead_letter_topic = f"{topic}.dlq"
        self._max_body_bytes = max_body_bytes

    async def __call__(self, request: Request) -> Response:
        name = str(request.path_params["integration"])
        try:
            integration = self._integrations.get(name)
            if integration is None:
                raise RefusedError(404, f"no integration {name!r} is declared")
            if integration.spec.type == "otlp":
                raise RefusedError(
                    404, f"integration {name!r} takes OTLP at /v1/otlp/{name}/v1/traces"
                )
            body = await read_body(request, self._max_body_bytes)
            headers = {key.lower(): value for key, value in request.headers.items()}
            self._authenticate(integration, headers, body)
            return await self._deliver(integration, headers, body)
        except RefusedError as refusal:
            return refusal.response()

    def _authenticate(
        self, integration: IntegrationDeclaration, headers: dict[str, str], body: bytes
    ) -> None:
        secret = integration.spec.secret.value()
        if secret is None:
            log.error("integration %r: its secret is not set (%s)", integration.name,
                      integration.spec.secret.model_dump(exclude_none=True))  # fmt: skip
        if secret is None or not authentic(integration.spec.type, headers, body, secret):
            self._metrics.hooks.labels(integration.name, "unauthorized").inc()
            raise RefusedError(401, _unauthorized(integration))

    async def _deliver(
        self, integration: IntegrationDeclaration, headers: dict[str, str], body: bytes
    ) -> Response:
        name = integration.name
        try:
            translated = receive(integration, headers, body)
        except MalformedError as error:
            self._metrics.hooks.labels(name, "invalid").inc()
            raise RefusedError(
                400, f"malformed {integration.spec.type} delivery: {error}"
            ) from None
        answer: dict[str, object]
        if isinstance(translated, Accepted):
            kept, refused = self._judged(translated.events)
            if kept:
                await self._produce(self._topic, [to_binary(event) for event in kept])
            answer = {"result": "accepted" if kept else "refused", "events": len(kept)}
            if refused:
                answer["refused"] = refused
        elif isinstance(translated, Ignored):
            answer = {"result": "ignored", "events": 0, "reason": translated.reason}
        elif isinstance(translated, Unmapped) and not integration.spec.dead_letters_unmatched:
            answer = {"result": "unmatched", "events": 0, "detail": translated.detail
                      + " (unmatched: ignore — another team's delivery, kept nowhere)"}  # fmt: skip
        else:
            reason = "unmapped" if isinstance(translated, Unmapped) else "invalid"
            record = delivery_record(
                name, replayable_headers(headers), body, reason, translated.detail
            )
            await self._produce(self._dead_letter_topic, [record])
            answer = {"result": reason, "events": 0, "detail": translated.detail}
        self._metrics.hooks.labels(name, str(answer["result"])).inc()
        return JSONResponse(answer, status_code=202)

    def _judged(
        self, events: tuple[OutcomeEvent, ...]
    ) -> tuple[list[OutcomeEvent], list[dict[str, str]]]:
        """(events the collector would count, the others with their reason): a delivery
        dated in a period closed past the grace window, or in the future, is refused here
        and said so in the answer, not accepted and dead-lettered later."""
        catalog = self._integrations.catalog()
        now = self._clock()
        kept, refused = [], []
        for event in events:
            kind = catalog.profile(event.project).period_kind
            problem = timing_problem(event, kind, now, self._grace)
            if problem is None:
                kept.append(event)
            else:
                refused.append({"id": event.id, "reason": problem[0].value, "detail": problem[1]})
        return kept, refused

    async def _produce(self, topic: str, records: list[KafkaRecord]) -> None:
        try:
            await run_in_threadpool(self._send, topic, records)
        except Exception as error:
            log.warning("broker did not acknowledge a webhook delivery: %s", error)
            raise RefusedError(503, f"broker unavailable: {error}") from error
