"""A refused gateway request, and reading a body within its size limit."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
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


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RefusedError(413, f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RefusedError(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
