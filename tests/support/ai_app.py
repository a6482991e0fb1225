"""An AI application as teams write them: the `openai` client instrumented by one of the
OpenTelemetry GenAI instrumentation libraries, agent invocations as `invoke_agent` spans
of the application's own tracer, an unrelated span, everything exported with the standard
OTLP/HTTP exporter. Run in its own process (instrumentations patch `openai` globally):

    python -m tests.support.ai_app LIBRARY MODEL_URL OTLP_ENDPOINT SECRET SERVICE

LIBRARY: official (opentelemetry-instrumentation-openai-v2), openinference, openllmetry.
After the first export, every span is exported again (a retried export): the collector
must count it once. A person's verdict on the first agent run is emitted as a
`gen_ai.evaluation.result` event with the OpenTelemetry Logs API (`VERDICTS`), exported
with the standard OTLP/HTTP log exporter. Prints how many spans were exported.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import openai
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

VERDICTS = {"official": "Rejected", "openinference": "accepted", "openllmetry": "edited"}
"""The score label a reviewer gives the first agent run of each library's application."""
REVIEW_EFFORT_S = {"official": 300.0, "openinference": 0.0, "openllmetry": 120.0}


def instrument(library: str, provider: TracerProvider) -> None:
    if library == "official":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    elif library == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor as OpenInference

        OpenInference().instrument(tracer_provider=provider)
    elif library == "openllmetry":
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as OpenLLMetry

        OpenLLMetry().instrument(tracer_provider=provider)
    else:
        raise SystemExit(f"unknown library {library!r}")


def run(library: str, model_url: str, endpoint: str, secret: str, service: str) -> int:
    resource = Resource.create({"service.name": service, "deployment.environment": "test"})
    provider = TracerProvider(resource=resource)
    kept = InMemorySpanExporter()
    exporter = OTLPSpanExporter(
        endpoint=f"{endpoint}/v1/traces", headers={"authorization": f"Bearer {secret}"}
    )
    provider.add_span_processor(SimpleSpanProcessor(kept))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument(library, provider)
    tracer = provider.get_tracer("triage-agent")
    logs = LoggerProvider(resource=resource)
    logs.add_log_record_processor(
        SimpleLogRecordProcessor(
            OTLPLogExporter(
                endpoint=f"{endpoint}/v1/logs", headers={"authorization": f"Bearer {secret}"}
            )
        )
    )
    reviewer = logs.get_logger("triage-review")
    client = openai.OpenAI(base_url=model_url, api_key="test-key", max_retries=0)
    ticket: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Disk full on db-7, users cannot log in"}
    ]
    with tracer.start_as_current_span("invoke_agent triage") as agent:
        agent.set_attribute("gen_ai.operation.name", "invoke_agent")
        agent.set_attribute("gen_ai.agent.name", "triage")
        client.chat.completions.create(model="gpt-4o-mini", messages=ticket)
        client.embeddings.create(model="text-embedding-3-small", input="disk full db-7")
        client.chat.completions.create(model="gpt-4o-mini", messages=ticket)
        # the service-desk engineer's verdict on this run's suggestion, in its span context
        reviewer.emit(
            LogRecord(
                event_name="gen_ai.evaluation.result",
                attributes={
                    "gen_ai.evaluation.name": "human_review",
                    "gen_ai.evaluation.score.label": VERDICTS[library],
                    "outcomes.review.human_effort_s": REVIEW_EFFORT_S[library],
                },
            )
        )
    with tracer.start_as_current_span("invoke_agent triage") as agent:
        agent.set_attribute("gen_ai.operation.name", "invoke_agent")
        agent.set_attribute("gen_ai.agent.name", "triage")
        client.chat.completions.create(model="in-house-llm", messages=ticket)
        agent.set_status(Status(StatusCode.ERROR, "the suggestion failed validation"))
    with tracer.start_as_current_span("GET /healthz") as plain:
        plain.set_attribute("http.request.method", "GET")
    spans: Sequence[ReadableSpan] = kept.get_finished_spans()
    again = exporter.export(spans)  # a retried export: the same spans once more
    provider.shutdown()
    logs.shutdown()
    print(f"exported {len(spans)} spans twice ({again.name})")
    return 0


if __name__ == "__main__":
    sys.exit(run(*sys.argv[1:6]))
