"""AI applications measured from the telemetry they already emit: the `openai` client
instrumented by three real OpenTelemetry GenAI instrumentation libraries, calling a fake
model server, exporting OTLP/HTTP to a real gateway, through a real broker to a live
collector with a declared price book: exact tokens per model and type, the price-book
cost by its formula, the catalogue's cost, unpriced calls, one run per agent invocation
(failed when the span errored), a retried export counted once, other spans ignored,
unmapped spans dead-lettered and replayed, and OTLP-conformant answers."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from collector.app import CollectorApp
from tests.support.brokers import Broker
from tests.support.gateway import hook_gateway
from tests.support.live import Series, scrape, value, wait_until
from tests.support.model_server import CHAT_USAGE, EMBEDDING_TOKENS, ModelServer

SECRET = "otlp-s3cret"
LIBRARIES = {
    "official": "triage-official",
    "openinference": "triage-oi",
    "openllmetry": "triage-ll",
}
"""Library -> the service name its application reports (the automation label)."""
DECLARATIONS = """\
apiVersion: outcomes/v1
kind: Integration
metadata: {name: ai-agents}
spec:
  type: otlp
  secret: {env: TEST_AI_AGENTS_OTLP_SECRET}
  rules:
    - match: {resource.service.name: "triage-*"}
      project: ticket-triage
      manualDurationS: 900
      review: {evaluation: human_review}
---
apiVersion: outcomes/v1
kind: PriceBook
metadata: {name: negotiated}
spec:
  prices:
    - {provider: openai, model: "gpt-4o-mini*", input: 0.15, output: 0.60, cacheRead: 0.075}
"""
LATER_RULE = """\
apiVersion: outcomes/v1
kind: Integration
metadata: {name: ai-agents}
spec:
  type: otlp
  secret: {env: TEST_AI_AGENTS_OTLP_SECRET}
  rules:
    - match: {resource.service.name: "triage-*"}
      project: ticket-triage
      manualDurationS: 900
    - match: {resource.service.name: "summarizer"}
      project: incident-summaries
"""
GPT, EMBEDDING, IN_HOUSE = "gpt-4o-mini-2024-07-18", "text-embedding-3-small", "in-house-llm"


@pytest.fixture
def targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "targets"
    directory.mkdir()
    (directory / "ai.yaml").write_text(DECLARATIONS)
    monkeypatch.setenv("TEST_AI_AGENTS_OTLP_SECRET", SECRET)
    return directory


@pytest.fixture
def gateway(broker: Broker, topic: str, targets: Path, tmp_path: Path) -> Iterator[str]:
    with hook_gateway(broker, topic, targets, tmp_path) as url:
        yield url


def run_app(library: str, model_url: str, gateway: str, service: str) -> None:
    endpoint = f"{gateway}/v1/otlp/ai-agents"
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.ai_app", library, model_url, endpoint, SECRET,
         service],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "twice (SUCCESS)" in done.stdout, done.stdout + done.stderr[-2000:]


def settled(url: str, done: Callable[[Series], bool], timeout_s: float) -> Series:
    """The series at `url` once `done` holds for them."""
    found: list[Series] = []

    def check() -> bool:
        found[:] = [scrape(url)]
        return done(found[0])

    wait_until(check, timeout_s=timeout_s)
    return found[0]


def ai(series: Series, name: str, **labels: str) -> float:
    return value(series, name, project="ticket-triage", **labels) or 0.0


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return (
                response.status,
                response.read(),
                {k.lower(): v for k, v in response.headers.items()},
            )
    except urllib.error.HTTPError as error:
        return error.code, error.read(), {k.lower(): v for k, v in error.headers.items()}


def price_book_cost(cached: int) -> Fraction:
    """One gpt-4o-mini chat call by the declared book's formula, per 1M tokens."""
    prompt, completion = CHAT_USAGE["prompt_tokens"], CHAT_USAGE["completion_tokens"]
    per_million = (
        (prompt - cached) * Fraction("0.15") + cached * Fraction("0.075")
        + completion * Fraction("0.60")
    )  # fmt: skip
    return per_million / 1_000_000


def test_genai_spans_of_three_libraries_become_exact_tokens_costs_and_runs(
    broker: Broker,
    topic: str,
    targets: Path,
    gateway: str,
    start_collector: Callable[..., CollectorApp],
) -> None:
    app = start_collector(targets=str(targets))
    metrics = app.metrics_url
    with ModelServer() as model:
        for library, service in LIBRARIES.items():
            run_app(library, model.base_url, gateway, service)
    apps = len(LIBRARIES)
    # per application: 2 agent runs, 3 chat calls (2 priced by the book, 1 unpriced),
    # 1 embedding call (the catalogue's price), 1 unrelated span; all exported twice
    series = settled(
        metrics,
        lambda s: ai(s, "outcomes_ai_calls_total", provider="openai", model=GPT) == 2 * apps
        and ai(s, "outcomes_ai_unpriced_calls_total", provider="openai", model=IN_HOUSE) == apps
        and ai(s, "outcomes_ai_calls_total", provider="openai", model=EMBEDDING) == apps
        and sum(v for (n, _), v in s.items() if n == "outcomes_runs_total") == 2 * apps
        and value(s, "outcomes_collector_events_total", type="outcomes.ai.usage",
                  result="duplicate") == 4 * apps,
        timeout_s=90,
    )  # fmt: skip
    prompt, completion = CHAT_USAGE["prompt_tokens"], CHAT_USAGE["completion_tokens"]
    # OpenInference and OpenLLMetry record cached prompt tokens; the official one does not
    cached = {"official": 0, "openinference": CHAT_USAGE["cached_tokens"],
              "openllmetry": CHAT_USAGE["cached_tokens"]}  # fmt: skip
    for library, service in LIBRARIES.items():
        tokens = {
            kind: ai(series, "outcomes_ai_tokens_total", automation=service, provider="openai",
                     model=GPT, type=kind)
            for kind in ("input", "output", "cache_read")
        }  # fmt: skip
        assert tokens == {
            "input": 2 * prompt, "output": 2 * completion, "cache_read": 2 * cached[library]
        }, library  # fmt: skip
        assert ai(series, "outcomes_ai_tokens_total", automation=service, provider="openai",
                  model=EMBEDDING, type="input") == EMBEDDING_TOKENS  # fmt: skip
        assert ai(series, "outcomes_runs_total", automation=service, outcome="succeeded") == 1
        assert ai(series, "outcomes_runs_total", automation=service, outcome="failed") == 1
    book = sum(2 * price_book_cost(cached[library]) for library in LIBRARIES)
    assert ai(series, "outcomes_ai_cost_total", provider="openai", model=GPT,
              currency="USD", source="price_book") == pytest.approx(float(book), rel=1e-12)  # fmt: skip
    catalogue = calc_price(
        Usage(input_tokens=EMBEDDING_TOKENS, output_tokens=0), model_ref=EMBEDDING,
        provider_id="openai", genai_request_timestamp=datetime.now(UTC),
    ).total_price  # fmt: skip
    assert catalogue > 0
    catalogued = ai(series, "outcomes_ai_cost_total", provider="openai", model=EMBEDDING,
                    currency="USD", source="catalogue")  # fmt: skip
    assert catalogued == pytest.approx(float(apps * catalogue), rel=1e-12)
    assert ai(series, "outcomes_ai_cost_total", provider="openai", model=IN_HOUSE,
              currency="USD", source="catalogue") == 0.0  # fmt: skip
    # AI cost is the project's cost; the runs' value is their manual baseline
    assert ai(series, "outcomes_cost_total", category="ai", currency="USD") == pytest.approx(
        float(book) + catalogued, rel=1e-12
    )
    assert ai(series, "outcomes_period_ai_cost", currency="USD") == pytest.approx(
        float(book) + catalogued, rel=1e-12
    )
    assert ai(series, "outcomes_manual_time_avoided_seconds_total") == 900 * apps
    # a person's verdict on each first run, sent as a GenAI evaluation event with the Logs API
    series = settled(
        metrics, lambda s: sum(v for (n, _), v in s.items() if n == "outcomes_reviews_total") == apps,
        timeout_s=60,
    )  # fmt: skip
    reviews = {verdict: ai(series, "outcomes_period_reviews", verdict=verdict)
               for verdict in ("accepted", "edited", "rejected", "escalated")}  # fmt: skip
    assert reviews == {"accepted": 1, "edited": 1, "rejected": 1, "escalated": 0}
    # 3 succeeded runs × 900 s, the rejected one forfeited, 300 + 0 + 120 s of review
    assert ai(series, "outcomes_period_time_saved_seconds") == 900 * apps - 900 - 420
    assert ai(series, "outcomes_period_acceptance_ratio") == 2 / 3
    assert ai(series, "outcomes_period_review_coverage_ratio") == 3 / 6
    # the gateway: what each item became
    gateway_series = scrape(f"{gateway}/metrics")
    items = {
        result: value(gateway_series, "outcomes_gateway_otlp_items_total",
                      integration="ai-agents", signal="traces", result=result) or 0.0
        for result in ("usage", "run", "ignored", "unmapped", "invalid")
    }  # fmt: skip
    assert items == {"usage": 2 * 4 * apps, "run": 2 * 2 * apps, "ignored": 2 * apps,
                     "unmapped": 0.0, "invalid": 0.0}  # fmt: skip


def span_request(service: str, **attributes: object) -> dict[str, object]:
    """An OTLP JSON export request of one span (hex ids, lowerCamelCase, enums as
    integers), written after opentelemetry-proto's examples/trace.json."""
    now_ns = int(datetime.now(UTC).timestamp() * 1e9)

    def any_value(v: object) -> dict[str, object]:
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        if isinstance(v, float):
            return {"doubleValue": v}
        return {"stringValue": str(v)}

    return {
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name",
                                         "value": {"stringValue": service}}]},
            "scopeSpans": [{
                "scope": {"name": "manual"},
                "spans": [{
                    "traceId": os.urandom(16).hex(),
                    "spanId": os.urandom(8).hex(),
                    "name": "chat gpt-4o-mini",
                    "kind": 3,
                    "startTimeUnixNano": str(now_ns - 2_000_000_000),
                    "endTimeUnixNano": str(now_ns),
                    "attributes": [{"key": k, "value": any_value(v)}
                                   for k, v in attributes.items()],
                }],
            }],
        }]
    }  # fmt: skip


CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.response.model": GPT,
    "gen_ai.usage.input_tokens": 100,
    "gen_ai.usage.output_tokens": 10,
}


def test_otlp_answers_refusals_and_replays_as_the_spec_says(
    broker: Broker,
    topic: str,
    targets: Path,
    gateway: str,
    start_collector: Callable[..., CollectorApp],
) -> None:
    app = start_collector(targets=str(targets))
    metrics = app.metrics_url
    traces = f"{gateway}/v1/otlp/ai-agents/v1/traces"
    auth = {"authorization": f"Bearer {SECRET}"}
    as_json = {**auth, "content-type": "application/json"}
    as_proto = {**auth, "content-type": "application/x-protobuf"}

    # one good span and two bad ones in a JSON request: 200, partial_success names them
    good = span_request("triage-json", **CHAT)
    bad_tokens = span_request("triage-json", **{**CHAT, "gen_ai.usage.input_tokens": -5})
    bad_cost = span_request(
        "triage-json", **{**CHAT, "gen_ai.usage.cost.amount": 0.01,
                          "gen_ai.usage.cost.currency": "EUR"},
    )  # fmt: skip
    merged = good["resourceSpans"] + bad_tokens["resourceSpans"] + bad_cost["resourceSpans"]  # type: ignore[operator]
    status, body, headers = post(traces, json.dumps({"resourceSpans": merged}).encode(), as_json)
    assert status == 200, body
    answer = json.loads(body)
    assert answer["partialSuccess"]["rejectedSpans"] == "2"
    assert "must not be negative" in answer["partialSuccess"]["errorMessage"]
    assert "EUR" in answer["partialSuccess"]["errorMessage"]
    assert headers["content-type"].startswith("application/json")

    # the same span as gzipped protobuf: a duplicate of the JSON one, answered in protobuf
    request = ExportTraceServiceRequest()
    request.ParseFromString(_proto_of(good))
    status, body, headers = post(
        traces, gzip.compress(request.SerializeToString()), {**as_proto, "content-encoding": "gzip"}
    )
    assert status == 200
    response = ExportTraceServiceResponse()
    response.ParseFromString(body)
    assert not response.HasField("partial_success")

    # whole-request refusals, each with a google.rpc.Status body
    refusals = [
        (traces, b"\x0a\xff\xff", as_proto, 400),
        (traces, b"{not json", as_json, 400),
        (traces, b"{}", {"authorization": "Bearer wrong", "content-type": "application/json"}, 401),
        (traces, b"{}", {**auth, "content-type": "text/plain"}, 415),
        (traces, b"x" * 2_000_000, as_proto, 413),
        (traces, gzip.compress(b"\0" * 3_000_000), {**as_proto, "content-encoding": "gzip"}, 413),
        (f"{gateway}/v1/otlp/nobody/v1/traces", b"{}", as_json, 404),
    ]
    for url, data, sent, expected in refusals:
        status, body, _ = post(url, data, sent)
        assert status == expected, (expected, body[:200])
        if sent.get("content-type") == "application/x-protobuf" and status != 413:
            refusal = Status()
            refusal.ParseFromString(body)
            assert refusal.message

    # a GenAI span of a service no rule maps: dead-lettered, then replayed once a rule does
    status, _, _ = post(traces, json.dumps(span_request("summarizer", **CHAT)).encode(), as_json)
    assert status == 200
    gateway_items = scrape(f"{gateway}/metrics")
    assert value(gateway_items, "outcomes_gateway_otlp_items_total", integration="ai-agents",
                 signal="traces", result="unmapped") == 1  # fmt: skip
    assert value(gateway_items, "outcomes_gateway_otlp_items_total", integration="ai-agents",
                 signal="traces", result="invalid") == 2  # fmt: skip
    (targets / "ai.yaml").write_text(LATER_RULE)
    replay = subprocess.run(
        [sys.executable, "-m", "outcomes", "dlq", "replay", "--bootstrap-servers",
         broker.bootstrap_servers, "--topic", topic, "--targets", str(targets),
         "--reason", "unmapped"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "replayed 1;" in replay.stdout

    series = settled(
        metrics,
        lambda s: value(s, "outcomes_ai_calls_total", project="incident-summaries",
                        provider="openai", model=GPT) == 1,
        timeout_s=60,
    )  # fmt: skip
    assert value(series, "outcomes_ai_calls_total", project="ticket-triage", provider="openai",
                 model=GPT) == 1  # fmt: skip
    assert value(series, "outcomes_ai_tokens_total", project="ticket-triage",
                 automation="triage-json", provider="openai", model=GPT, type="input") == 100  # fmt: skip


def _proto_of(document: dict[str, object]) -> bytes:
    from collector.integrations.otlp import JSON, decode_traces

    return decode_traces(json.dumps(document).encode(), JSON).SerializeToString()
