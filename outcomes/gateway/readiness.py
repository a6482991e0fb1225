"""Is the broker taking the gateway's events? For `/readyz` and an orchestrator.

Every produce says so (its acknowledgement, or its failure); while no event was produced for
a few seconds, a metadata request with a short timeout asks the broker directly (a paused
or unreachable broker answers nothing: not ready). Results are cached for `ttl_s`, so a
probe every second costs the broker one request at most every `ttl_s`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger(__name__)
QUIET_S = 5.0
"""Without a produce for this long, readiness asks the broker itself."""


class BrokerReadiness:
    def __init__(self, bootstrap_servers: str, timeout_s: float, ttl_s: float = 2.0) -> None:
        self._bootstrap = bootstrap_servers
        self._timeout_ms = max(int(timeout_s * 1000), 1000)
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._admin: Any = None
        self._state: tuple[float, bool, str] = (float("-inf"), False, "not checked yet")
        self.stopping = False

    def produced(self, error: Exception | None) -> None:
        """What a produce found: acknowledged (None) or failed."""
        detail = "broker acknowledged" if error is None else f"broker unavailable: {error}"
        with self._lock:
            self._state = (time.monotonic(), error is None, detail)

    def check(self) -> tuple[bool, str]:
        """(ready, why); may block up to the timeout (call it off the event loop)."""
        if self.stopping:
            return False, "shutting down: finishing the requests in flight"
        with self._lock:
            at, ok, detail = self._state
            fresh = time.monotonic() - at < (QUIET_S if ok else self._ttl_s)
            if fresh:
                return ok, detail
            ok, detail = self._ask()
            self._state = (time.monotonic(), ok, detail)
            return ok, detail

    def _ask(self) -> tuple[bool, str]:
        try:
            if self._admin is None:
                self._admin = KafkaAdminClient(
                    bootstrap_servers=self._bootstrap.split(","),
                    request_timeout_ms=self._timeout_ms,
                    client_id="outcomes-gateway-readiness",
                )
            self._admin.list_topics()
        except (KafkaError, OSError) as error:  # the broker does not answer
            # the client is kept: it reconnects by itself (one built while the broker is away
            # waits for it again)
            return False, f"broker unavailable: {type(error).__name__}: {error}"
        return True, "broker answers"

    def _discard(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                admin.close()
            except (KafkaError, OSError) as error:  # a broken client: nothing left to do
                log.debug("readiness client not closed cleanly: %s", error)

    def close(self) -> None:
        with self._lock:
            self._discard()


async def readyz(readiness: BrokerReadiness | None, request: Request) -> Response:
    """`GET /readyz`: 200 while the broker takes events, else 503 and why."""
    if readiness is None:
        return Response("ready\n", media_type="text/plain")
    ok, detail = await run_in_threadpool(readiness.check)
    text = f"{'ready' if ok else 'not ready'}: {detail}\n"
    return Response(text, 200 if ok else 503, media_type="text/plain")
