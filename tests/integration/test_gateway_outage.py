"""The gateway when the broker goes away after having been up: senders are told at once
(503 with Retry-After within seconds, for events, webhooks and OTLP alike), `/readyz`
follows the broker down and back, and SIGTERM with a request in flight exits promptly."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.embedded import free_port
from outcomes.gateway.app import GatewaySettings
from outcomes.gateway.server import ThreadedServer, build_server
from outcomes.gateway.tokens import digest
from schemas.binding import format_time
from tests.support.brokers import Broker
from tests.support.live import http_get, wait_until

TOKEN = "outage-token"


def event(number: int) -> bytes:
    return json.dumps({
        "specversion": "1.0", "id": f"outage-{uuid.uuid4().hex}-{number}", "source": "tests",
        "type": "outcomes.run.finished", "time": format_time(datetime.now(UTC)),
        "data": {"project": "disk-cleanup", "automation": "sweep", "outcome": "succeeded",
                 "manual_duration_s": 600, "human_effort_s": 0, "cost": 0},
    }).encode()  # fmt: skip


def post(base: str, body: bytes) -> tuple[int, dict[str, str], float]:
    """(status, headers, seconds it took)."""
    request = urllib.request.Request(
        f"{base}/v1/events", data=body, method="POST",
        headers={"content-type": "application/cloudevents+json",
                 "authorization": f"Bearer {TOKEN}"},
    )  # fmt: skip
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, _lower(response.headers.items()), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers.items()), time.monotonic() - started


def _lower(items: list[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


def tokens_file(directory: Path) -> Path:
    path = directory / "tokens.yaml"
    path.write_text(f"tokens:\n  - {{name: t, sha256: {digest(TOKEN)}, projects: ['*']}}\n")
    return path


# kafka-python (3.0.12, the latest) can leave a socket to a paused broker unclosed: closing a
# connection with a write still queued hands the close to the write's task, which a stopping
# I/O loop cancels (kafka/net/transport.py). The socket is garbage-collected later, and
# pytest turns the ResourceWarning it raises into a failure of whichever test runs then.
UNCLOSED_SOCKET = (
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)


def collect_clients(before: set[threading.Thread]) -> None:
    """Wait for the Kafka client threads this test started, then collect what they left:
    a socket they leave unclosed is reported here, under this test's filter."""
    for thread in set(threading.enumerate()) - before:
        if thread.name.startswith("kafka-io-") or thread.name.endswith("-network-thread"):
            thread.join(timeout=10)
    gc.collect()


@pytest.mark.filterwarnings(UNCLOSED_SOCKET)
def test_503_within_seconds_and_readiness_follows_the_broker(
    tmp_path: Path, own_broker: Callable[[], Broker]
) -> None:
    threads = set(threading.enumerate())
    broker = own_broker()
    topic = f"gw-{uuid.uuid4().hex[:8]}"
    broker.create_topics({topic: 1, f"{topic}.dlq": 1})
    port = free_port()
    server = ThreadedServer(
        build_server(broker.bootstrap_servers, tokens_file(tmp_path), "127.0.0.1", port,
                     GatewaySettings(topic=topic))
    )  # fmt: skip
    server.start()
    base = f"http://127.0.0.1:{port}"
    assert broker.pid is not None
    try:
        assert post(base, event(1))[0] == 202
        assert http_get(f"{base}/readyz")[0] == 200
        os.kill(broker.pid, signal.SIGSTOP)
        try:
            status, headers, took = post(base, event(2))
            assert status == 503
            assert took < 10, took
            assert int(headers["retry-after"]) >= 1
            status, text = http_get(f"{base}/readyz")
            assert status == 503 and "broker unavailable" in text, text
            status, _, took = post(base, event(3))  # a new connection fails as fast
            assert (status, took < 10) == (503, True), took
        finally:
            os.kill(broker.pid, signal.SIGCONT)
        resumed = time.monotonic()
        wait_until(lambda: http_get(f"{base}/readyz")[0] == 200, timeout_s=60)
        wait_until(lambda: post(base, event(4))[0] == 202, timeout_s=30)
        assert time.monotonic() - resumed < 30
    finally:
        server.stop()
        collect_clients(threads)


def test_sigterm_with_a_request_in_flight_exits_within_15_seconds(
    tmp_path: Path, own_broker: Callable[[], Broker]
) -> None:
    broker = own_broker()
    topic = f"gw-{uuid.uuid4().hex[:8]}"
    broker.create_topics({topic: 1, f"{topic}.dlq": 1})
    port = free_port()
    log = (tmp_path / "gateway.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "outcomes", "gateway", "--bootstrap-servers",
         broker.bootstrap_servers, "--listen", f"127.0.0.1:{port}", "--topic", topic,
         "--tokens", str(tokens_file(tmp_path))],
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    assert broker.pid is not None
    try:
        wait_until(lambda: http_get(f"{base}/healthz")[0] == 200, timeout_s=60)
        assert post(base, event(1))[0] == 202
        os.kill(broker.pid, signal.SIGSTOP)
        try:
            in_flight = subprocess.Popen(
                [sys.executable, "-c",
                 "import sys, urllib.request\n"
                 f"r = urllib.request.Request('{base}/v1/events', data=sys.stdin.buffer.read(),"
                 " method='POST', headers={'content-type': 'application/cloudevents+json',"
                 f" 'authorization': 'Bearer {TOKEN}'}})\n"
                 "try:\n    urllib.request.urlopen(r, timeout=60)\n"
                 "except Exception as e:\n    print(getattr(e, 'code', e))\n"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=False,
            )  # fmt: skip
            assert in_flight.stdin is not None
            in_flight.stdin.write(event(2))
            in_flight.stdin.close()
            time.sleep(1.0)  # the request waits for the paused broker
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            took = time.monotonic() - started
            in_flight.wait(timeout=30)
            assert in_flight.stdout is not None
            answer = in_flight.stdout.read().decode().strip()
            in_flight.stdout.close()
        finally:
            os.kill(broker.pid, signal.SIGCONT)
        assert took < 15, took
        assert answer == "503", answer  # answered, not cut off
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        log.close()
