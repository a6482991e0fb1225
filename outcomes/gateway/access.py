"""The gateway's access log and request/event counters (docs/REFERENCE.md#metrics gateway series).

One structured line per request on the `outcomes.gateway.access` logger: method, route,
status, duration, client address, the token's *name* (never the token, never a header
value) and the events accepted. The same requests are counted in
`outcomes_gateway_requests_total{route,code}`; events in
`outcomes_gateway_events_total{result}` (accepted, or the reason an event was refused).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from outcomes.gateway.refusals import RefusedError

access = logging.getLogger("outcomes.gateway.access")
ROUTES = ("/v1/events", "/metrics", "/healthz", "/readyz", "/openapi.json")


def route_of(path: str) -> str:
    """A bounded route label: the template, never the raw path."""
    if path.startswith("/v1/hooks/"):
        return "/v1/hooks/{integration}"
    if path.startswith("/v1/otlp/"):
        signal = path.rsplit("/", 1)[-1]
        return f"/v1/otlp/{{integration}}/v1/{signal if signal in ('traces', 'logs') else '…'}"
    return path if path in ROUTES else "other"


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "outcomes_gateway_requests",
            "HTTP requests by route and status code.",
            ["route", "code"],
            registry=registry,
        )
        self.events = Counter(
            "outcomes_gateway_events",
            "Events of POST /v1/events: accepted, or the reason one was refused (its whole"
            " request was refused: invalid, malformed, future, too_late, currency, forbidden…).",
            ["result"],
            registry=registry,
        )

    def refused(self, refusal: RefusedError) -> None:
        """Count the events of a refused request by their reason (400 lists them)."""
        listed = refusal.body.get("events")
        if refusal.status == 400 and isinstance(listed, list) and listed:
            for problem in listed:
                self.events.labels(str(problem.get("reason", "invalid"))).inc()
        elif refusal.status == 403:
            self.events.labels("forbidden").inc()


class AccessLog(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        super().__init__(app)
        self._metrics = metrics

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = route_of(request.url.path)
        self._metrics.requests.labels(route, str(response.status_code)).inc()
        if access.isEnabledFor(logging.INFO):
            line: dict[str, Any] = {
                "method": request.method,
                "route": route,
                "path": request.url.path,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "client": request.client.host if request.client else None,
                "token": getattr(request.state, "token", None),
                "events": getattr(request.state, "events", None),
            }
            access.info(json.dumps(line, separators=(",", ":")))
        return response
