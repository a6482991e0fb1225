"""OTLP intake of GenAI spans: the gateway against the floor of the same work done bare.

Requests of 100 and 1,000 spans (80% model calls with usage, 10% agent invocations, 10%
other spans, as an instrumented AI service exports them) are posted one after another, in
protobuf, to a real `outcomes gateway` process on the embedded broker; each answer comes
after Kafka acknowledged its events. The floor, in this process, decodes the same requests
with opentelemetry-proto, builds each span's outcome event (the same CloudEvents binary
records, without validation, rules or answers) and produces them with kafka-python, waiting
for the acknowledgement per request as the gateway does. Reported: spans/s and CPU µs per
span of the gateway's process (its CPU time from /proc, the HTTP client excluded) and of
the floor's, side by side in one run. Goal: the gateway within 2x the floor's CPU per span.

    python -m bench.otlp [--spans 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from bench.common import machine, table, write
from collector.embedded import EmbeddedBroker, free_port
from collector.integrations.otlp import attributes_of
from outcomes.gateway.tokens import digest
from tests.support.live import wait_until

SECRET = "bench-otlp-secret"
TOPIC = "bench-otlp"
DECLARATIONS = """\
apiVersion: outcomes/v1
kind: Integration
metadata: {name: ai}
spec:
  type: otlp
  secret: {env: BENCH_OTLP_SECRET}
  rules:
    - match: {resource.service.name: "svc-*"}
      project: "{resource.service.name}"
      manualDurationS: 600
"""
MODELS = ("gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06", "claude-3-5-haiku-20241022")


def _pairs(values: dict[str, Any]) -> list[KeyValue]:
    pairs = []
    for key, value in values.items():
        if isinstance(value, int):
            pairs.append(KeyValue(key=key, value=AnyValue(int_value=value)))
        else:
            pairs.append(KeyValue(key=key, value=AnyValue(string_value=str(value))))
    return pairs


def request(spans: int, rng: random.Random) -> bytes:
    """One export request of `spans` spans of one service, ending now."""
    now_ns = time.time_ns()
    made = []
    for _ in range(spans):
        roll = rng.random()
        if roll < 0.8:
            model = rng.choice(MODELS)
            attributes: dict[str, Any] = {
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                "gen_ai.request.model": model, "gen_ai.response.model": model,
                "gen_ai.response.id": f"chatcmpl-{rng.getrandbits(64):x}",
                "gen_ai.usage.input_tokens": rng.randrange(100, 20_000),
                "gen_ai.usage.output_tokens": rng.randrange(10, 2_000),
                "server.address": "api.openai.com",
            }  # fmt: skip
        elif roll < 0.9:
            attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "triage"}
        else:
            attributes = {"http.request.method": "GET", "url.path": "/healthz"}
        made.append(
            Span(
                trace_id=rng.randbytes(16), span_id=rng.randbytes(8), name="span",
                kind=Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=now_ns - 2_000_000_000, end_time_unix_nano=now_ns,
                attributes=_pairs(attributes),
            )
        )  # fmt: skip
    service = f"svc-{rng.randrange(20)}"
    resource = Resource(attributes=_pairs({"service.name": service}))
    scope = ScopeSpans(spans=made)
    message = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[scope])]
    )
    return message.SerializeToString()


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` and its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post_all(url: str, bodies: list[bytes]) -> None:
    for body in bodies:
        sent = urllib.request.Request(
            url, data=body, method="POST",
            headers={"content-type": "application/x-protobuf",
                     "authorization": f"Bearer {SECRET}"},
        )  # fmt: skip
        with urllib.request.urlopen(sent, timeout=60) as answer:
            assert answer.status == 200
            answer.read()


def floor(bootstrap: str, bodies: list[bytes]) -> float:
    """CPU seconds to decode, build the events and produce them, per request acknowledged."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    started = time.process_time()
    for body in bodies:
        message = ExportTraceServiceRequest()
        message.ParseFromString(body)
        for resource_spans in message.resource_spans:
            resource = attributes_of(resource_spans.resource.attributes)
            project = str(resource.get("service.name", "")).encode()
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    values = attributes_of(span.attributes)
                    if "gen_ai.operation.name" not in values:
                        continue
                    event_id = f"{span.trace_id.hex()}-{span.span_id.hex()}"
                    data = json.dumps({"project": project.decode(), **values}).encode()
                    headers = [("ce_id", event_id.encode()), ("ce_type", b"outcomes.ai.usage")]
                    producer.send(TOPIC, key=project, value=data, headers=headers)
        producer.flush()
    used = time.process_time() - started
    producer.close()
    return used


def gateway_process(bootstrap: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    targets = workdir / "targets"
    targets.mkdir()
    (targets / "ai.yaml").write_text(DECLARATIONS)
    tokens = workdir / "tokens.yaml"
    tokens.write_text(f"tokens:\n  - {{name: b, sha256: {digest('unused')}, projects: ['*']}}\n")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "outcomes", "gateway", "--bootstrap-servers", bootstrap,
         "--listen", f"127.0.0.1:{port}", "--tokens", str(tokens), "--targets", str(targets),
         "--topic", TOPIC, "--max-body-bytes", str(16 * 1024 * 1024)],
        env={**os.environ, "BENCH_OTLP_SECRET": SECRET}, stdout=subprocess.DEVNULL,
        stderr=(workdir / "gateway.log").open("wb"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    wait_until(up, timeout_s=60)
    return process, f"{base}/v1/otlp/ai/v1/traces"


def main(spans: int = 20_000, rounds: int = 3) -> dict[str, Any]:
    rng = random.Random(7)
    results: dict[str, Any] = {"machine": machine(), "spans": spans, "sizes": {}}
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as directory:
        broker.create_topics({TOPIC: 6, f"{TOPIC}.dlq": 1})
        process, url = gateway_process(broker.bootstrap_servers, Path(directory))
        try:
            post_all(url, [request(100, rng) for _ in range(5)])  # warm: imports, connection
            for size in (100, 1_000):
                gateway_cpu, gateway_rate, floor_cpu = [], [], []
                for _ in range(rounds):
                    bodies = [request(size, rng) for _ in range(spans // size)]
                    before, started = process_cpu_s(process.pid), time.perf_counter()
                    post_all(url, bodies)
                    wall = time.perf_counter() - started
                    gateway_cpu.append((process_cpu_s(process.pid) - before) / spans * 1e6)
                    gateway_rate.append(spans / wall)
                    floor_cpu.append(floor(broker.bootstrap_servers, bodies) / spans * 1e6)
                row = {
                    "gateway_spans_per_s": statistics.median(gateway_rate),
                    "gateway_cpu_us_per_span": statistics.median(gateway_cpu),
                    "floor_cpu_us_per_span": statistics.median(floor_cpu),
                }
                row["ratio"] = row["gateway_cpu_us_per_span"] / row["floor_cpu_us_per_span"]
                results["sizes"][str(size)] = row
        finally:
            process.terminate()
            process.wait(timeout=30)
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    write("otlp", results)
    table(
        f"OTLP intake, {spans:,} spans per size, median of {rounds} (CPU µs per span)",
        [
            (
                f"{size} spans/request",
                f"gateway {row['gateway_spans_per_s']:,.0f} spans/s,"
                f" {row['gateway_cpu_us_per_span']:.1f} µs/span; floor"
                f" {row['floor_cpu_us_per_span']:.1f} µs/span; gateway/floor {row['ratio']:.2f}x",
            )
            for size, row in results["sizes"].items()
        ],
    )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.spans, arguments.rounds)
