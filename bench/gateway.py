"""The gateway under load, with the broker frozen in the middle (loopback, bounded).

`clients` threads post batches of CloudEvents to `outcomes gateway` (its own process, as
deployed) for `seconds`; a third of the way in the broker is frozen (SIGSTOP) for
`pause_s`. A client answered 503 keeps its batch and posts it again after the
Retry-After it was given (same event ids), as the SDK's HTTP sender does. At the end every
event must have been answered 202, and the collector (its own process, defaults) must
count each exactly once: duplicates are only re-sent events the broker had taken after all.

Reported: requests/s, latency p50/p99 of the 202s, how many 503s and how fast they came,
the gateway's CPU per accepted request, its resident memory before, at peak and after.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import table, write
from collector.embedded import EmbeddedBroker, free_port
from outcomes.gateway.tokens import digest
from schemas.binding import format_time
from tests.support.processes import start_collect_process

TOKEN = "bench-token"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Client:
    index: int
    port: int
    batch: int
    accepted_ids: set[str] = field(default_factory=set)
    latencies_s: list[float] = field(default_factory=list)
    refused_s: list[float] = field(default_factory=list)
    """How long each 503 took to come."""
    other: dict[int, int] = field(default_factory=dict)
    _seq: int = 0

    def run(self, stop: threading.Event) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        pending: list[dict[str, Any]] | None = None
        while not stop.is_set() or pending is not None:
            body = pending or self._next()
            status, retry_after_s, took = self._post(connection, body)
            if status == 202:
                self.latencies_s.append(took)
                self.accepted_ids.update(event["id"] for event in body)
                pending = None
            elif status == 503:
                self.refused_s.append(took)
                pending = body
                time.sleep(retry_after_s)
            else:
                self.other[status] = self.other.get(status, 0) + 1
                pending = None
        connection.close()

    def _next(self) -> list[dict[str, Any]]:
        events = []
        for _ in range(self.batch):
            self._seq += 1
            events.append({
                "specversion": "1.0", "id": f"gw-{self.index}-{self._seq}", "source": "bench",
                "type": "outcomes.run.finished", "time": format_time(datetime.now(UTC)),
                "data": {"project": f"load-{self._seq % 20}", "automation": "a",
                         "outcome": "succeeded", "duration_s": 1.0, "manual_duration_s": 60.0,
                         "human_effort_s": 0.0, "cost": 0.01},
            })  # fmt: skip
        return events

    def _post(
        self, connection: http.client.HTTPConnection, body: list[dict[str, Any]]
    ) -> tuple[int, float, float]:
        payload = json.dumps(body).encode()
        headers = {"Content-Type": "application/cloudevents-batch+json",
                   "Authorization": f"Bearer {TOKEN}"}  # fmt: skip
        started = time.monotonic()
        try:
            connection.request("POST", "/v1/events", payload, headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            connection.close()  # reconnects on the next request
            return 503, 1.0, time.monotonic() - started
        retry_after = float(response.getheader("Retry-After") or 1)
        return response.status, retry_after, time.monotonic() - started


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(
    clients: int = 8, seconds: float = 45.0, pause_s: float = 20.0, batch: int = 25
) -> dict[str, Any]:
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        topic = f"gw-{uuid.uuid4().hex[:6]}"
        broker.create_topics({topic: 6, f"{topic}.dlq": 1})
        (work / "tokens.yaml").write_text(
            f"tokens:\n  - {{name: bench, sha256: {digest(TOKEN)}, projects: ['*']}}\n"
        )
        collector_port, gateway_port = free_port(), free_port()
        collector = start_collect_process(
            broker, topic, topic, str(work / "s.db"), collector_port, workers="auto"
        )
        gateway = subprocess.Popen(
            [sys.executable, "-m", "outcomes", "gateway", "--bootstrap-servers",
             broker.bootstrap_servers, "--topic", topic, "--tokens", str(work / "tokens.yaml"),
             "--listen", f"127.0.0.1:{gateway_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            return _measure(
                broker, collector_port, gateway, gateway_port,
                clients=clients, seconds=seconds, pause_s=pause_s, batch=batch,
            )  # fmt: skip
        finally:
            for process in (gateway, collector):
                process.terminate()
                process.wait(timeout=30)


def _measure(
    broker: EmbeddedBroker,
    collector_port: int,
    gateway: subprocess.Popen[bytes],
    gateway_port: int,
    *,
    clients: int,
    seconds: float,
    pause_s: float,
    batch: int,
) -> dict[str, Any]:
    _wait(lambda: _health(gateway_port), "the gateway did not start")
    workers = [Client(i, gateway_port, batch) for i in range(clients)]
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in workers]
    rss_before, cpu_before = _rss_mib(gateway.pid), _cpu_s(gateway.pid)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    peak, paused, paused_at = rss_before, False, 0.0
    assert broker.pid is not None
    while time.monotonic() - started < seconds:
        elapsed = time.monotonic() - started
        if not paused and elapsed >= seconds / 3:
            os.kill(broker.pid, signal.SIGSTOP)
            paused, paused_at = True, time.monotonic()
        if paused_at and time.monotonic() - paused_at >= pause_s:
            os.kill(broker.pid, signal.SIGCONT)
            paused_at = 0.0
        peak = max(peak, _rss_mib(gateway.pid))
        time.sleep(0.5)
    if paused_at:
        os.kill(broker.pid, signal.SIGCONT)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    wall_s = time.monotonic() - started
    cpu_s = _cpu_s(gateway.pid) - cpu_before
    answered = set().union(*(c.accepted_ids for c in workers))
    _wait(lambda: _counted(collector_port)["accepted"] >= len(answered),
          "the collector did not count them", timeout_s=180)  # fmt: skip
    time.sleep(2)  # and no more come
    counted = _counted(collector_port)
    latencies = sorted(s for c in workers for s in c.latencies_s)
    refused = sorted(s for c in workers for s in c.refused_s)
    requests = len(latencies)
    rss = [rss_before, peak, _rss_mib(gateway.pid)]
    result: dict[str, Any] = {
        "clients": clients, "batch": batch, "seconds": wall_s, "pause_s": pause_s,
        "requests_202": requests, "events_202": len(answered),
        "requests_per_s": requests / wall_s,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "answers_503": len(refused),
        "p99_503_s": refused[int(len(refused) * 0.99) - 1] if refused else None,
        "other_answers": {str(k): v for c in workers for k, v in c.other.items()},
        "gateway_cpu_ms_per_request": cpu_s / requests * 1000,
        "gateway_rss_mib": rss,
        "collector_accepted": counted["accepted"],
        "collector_duplicates": counted["duplicate"],
    }  # fmt: skip
    table(
        f"gateway: {clients} clients x {batch}-event batches, broker frozen {pause_s:.0f} s",
        [
            ("requests answered 202 per second", f"{result['requests_per_s']:,.0f}"),
            ("latency of a 202, p50 / p99",
             f"{result['p50_ms']:.0f} / {result['p99_ms']:.0f} ms"),
            ("503s while frozen (p99 time to answer)",
             f"{len(refused):,} ({result['p99_503_s'] or 0:.1f} s)"),
            ("gateway CPU per accepted request", f"{result['gateway_cpu_ms_per_request']:.2f} ms"),
            ("gateway RSS before / peak / after", " / ".join(f"{m:.0f} MiB" for m in rss)),
            ("events answered 202 / counted by the collector",
             f"{len(answered):,} / {counted['accepted']:,} (+{counted['duplicate']:,} duplicates)"),
        ],
    )  # fmt: skip
    write("gateway", result)
    assert counted["accepted"] == len(answered), (counted, len(answered))
    assert not result["other_answers"], result["other_answers"]
    return result


def _counted(port: int) -> dict[str, int]:
    url = f"http://127.0.0.1:{port}/metrics?name[]=outcomes_collector_events_total"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    found = {"accepted": 0, "duplicate": 0}
    for line in text.splitlines():
        if line.startswith("outcomes_collector_events_total{"):
            for result in found:
                if f'result="{result}"' in line:
                    found[result] += int(float(line.rsplit(" ", 1)[1]))
    return found


def _health(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/readyz")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


def _wait(check: Any, problem: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(problem)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
