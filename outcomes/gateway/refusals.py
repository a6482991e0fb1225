"""A refused gateway request, and reading a body within its size limit."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse


class RefusedError(Exception):
    """A request refused with `status`; nothing of it was produced."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **extra}

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="outcomes"'} if self.status == 401 else {}
        if self.status == 429:
            headers["Retry-After"] = str(max(1, math.ceil(float(self.body["retry_after_s"]))))
        return JSONResponse(self.body, status_code=self.status, headers=headers or None)


# A body refused as too large is still read, up to this many times the limit and for at most
# DISCARD_S seconds, and thrown away: a server that answers 413 and closes while the sender is
# still writing resets the connection, and the sender sees a broken pipe instead of the answer
# (nginx's lingering close does the same). Larger bodies are answered at once.
DISCARD_FACTOR = 8
DISCARD_S = 5.0


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    stream = request.stream()
    if declared is not None and declared.isdigit() and int(declared) > limit:
        if int(declared) <= DISCARD_FACTOR * limit:
            await _discard(stream, DISCARD_FACTOR * limit)
        raise RefusedError(413, f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            await _discard(stream, DISCARD_FACTOR * limit - size)
            raise RefusedError(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _discard(stream: AsyncIterator[bytes], budget: int) -> None:
    """Read what is left of the body and drop it, within `budget` bytes and DISCARD_S."""

    async def drain() -> None:
        left = budget
        async for chunk in stream:
            left -= len(chunk)
            if left < 0:
                return

    with contextlib.suppress(TimeoutError, OSError, ClientDisconnect):
        await asyncio.wait_for(drain(), DISCARD_S)
