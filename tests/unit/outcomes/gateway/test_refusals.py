"""A body refused as too large still reaches its sender as a 413, over a real socket and server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from outcomes.gateway.refusals import RefusedError, read_body

LIMIT = 1_000_000


async def _echo(request: Request) -> Response:
    try:
        body = await read_body(request, LIMIT)
    except RefusedError as refusal:
        return refusal.response()
    return JSONResponse({"size": len(body)})


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    app = Starlette(routes=[Route("/", _echo, methods=["POST"])])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    running.should_exit = True
    thread.join(10)


def _post(port: int, body: bytes, *, chunked: bool = False) -> bytes:
    """Write the whole request, then read the answer, as urllib does (one request, then close)."""
    if chunked:
        head = (
            b"POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        size = 65_536
        parts = [body[i : i + size] for i in range(0, len(body), size)]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    else:
        head = (
            b"POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: %d\r\n\r\n"
            % len(body)
        )
        payload = body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head + payload)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = conn.recv(65_536)
            if not chunk:
                break
            answer += chunk
    return answer


def test_a_body_within_the_limit_is_read(server: int) -> None:
    answer = _post(server, b"x" * LIMIT)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
    assert b'{"size":1000000}' in answer


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_too_large_is_answered_413_not_a_reset_connection(
    server: int, *, chunked: bool
) -> None:
    # 6x the limit: far more than the socket buffers hold, so a server that answered and closed
    # without reading would reset the connection while the sender is still writing
    answer = _post(server, b"x" * (6 * LIMIT), chunked=chunked)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert b"body larger than 1000000 bytes" in answer
