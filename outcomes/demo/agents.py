"""The demo's AI applications: instrumented with the real OpenTelemetry SDK and exporting
OTLP/HTTP to the demo's gateway, as an AI team's service would (the zero-code path).

Spans carry the GenAI semantic conventions the OpenTelemetry instrumentations write
(`gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.response.model`,
`gen_ai.usage.*`); the model calls themselves are simulated.

- incident-copilot: one `invoke_agent` span per incident; each reads long incident context
  with gpt-4o six times (priced by the example price book) and once with a self-hosted
  model nobody priced (AIModelUnpriced); a third of its suggestions fail. Its model calls
  cost more than the on-call minutes it saves: AI spend outruns value.
- remediation-planner: the model call incident-autoremediation's runbooks make to pick a
  fix (gpt-4o-mini, priced from the public catalogue): a small cost beside what they save.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, set_span_in_context

COPILOT, PLANNER = "incident-copilot", "remediation-planner"
COPILOT_EVERY = timedelta(hours=2)
PLANNER_EVERY = timedelta(hours=1)
GPT4O, GPT4O_MINI, SELF_HOSTED = "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "llama-3.1-70b"


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)


class AgentFleet:
    """Two AI services, each its own TracerProvider (its own `service.name`)."""

    def __init__(self, endpoint: str, secret: str, clock: Callable[[], datetime]) -> None:
        """`endpoint`: the integration's OTLP base, `http://gateway/v1/otlp/ai-agents`."""
        self._clock = clock
        self._incidents = itertools.count(1)
        self._providers: dict[str, TracerProvider] = {}
        self._tracers: dict[str, Tracer] = {}
        for service in (COPILOT, PLANNER):
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            exporter = OTLPSpanExporter(
                endpoint=f"{endpoint}/v1/traces",
                headers={"authorization": f"Bearer {secret}"},
                timeout=10,
            )
            provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
            self._providers[service] = provider
            self._tracers[service] = provider.get_tracer("outcomes.demo.agents")

    def backfill(self, since: datetime) -> None:
        """The period so far: a copilot invocation every 2 hours, a planner call every hour."""
        now = self._clock()
        moment = since + PLANNER_EVERY
        while moment <= now - timedelta(minutes=5):
            if (moment - since) % COPILOT_EVERY == timedelta(0):
                self.copilot(moment)
            self.planner(moment)
            moment += PLANNER_EVERY

    def live(self) -> None:
        """One copilot invocation and one planner call, ending now."""
        now = self._clock()
        self.copilot(now)
        self.planner(now)

    def copilot(self, end: datetime) -> None:
        incident = next(self._incidents)
        tracer = self._tracers[COPILOT]
        start = end - timedelta(seconds=70)
        agent = tracer.start_span(
            "invoke_agent incident-copilot", kind=SpanKind.INTERNAL, start_time=_ns(start),
            attributes={"gen_ai.operation.name": "invoke_agent",
                        "gen_ai.agent.name": "incident-copilot", "gen_ai.provider.name": "openai"},
        )  # fmt: skip
        context = set_span_in_context(agent)
        for step in range(6):
            at = start + timedelta(seconds=10 * step)
            self._call(
                tracer, context, at, provider="openai", model=GPT4O, tokens=(120_000, 40_000, 1_500)
            )
        self._call(
            tracer, context, start + timedelta(seconds=62), provider="vllm", model=SELF_HOSTED,
            tokens=(8_000, 0, 300),
        )  # fmt: skip
        if incident % 3 == 0:
            agent.set_status(Status(StatusCode.ERROR, "suggestion rejected by validation"))
        agent.end(end_time=_ns(end))

    def planner(self, end: datetime) -> None:
        tracer = self._tracers[PLANNER]
        self._call(
            tracer, None, end - timedelta(seconds=3), provider="openai", model=GPT4O_MINI,
            tokens=(1_500, 0, 200),
        )  # fmt: skip

    @staticmethod
    def _call(
        tracer: Tracer,
        context: Context | None,
        start: datetime,
        *,
        provider: str,
        model: str,
        tokens: tuple[int, int, int],
    ) -> None:
        prompt, cached, completion = tokens
        span = tracer.start_span(
            f"chat {model}", context=context, kind=SpanKind.CLIENT,
            start_time=_ns(start),
            attributes={"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider,
                        "gen_ai.request.model": model, "gen_ai.response.model": model,
                        "gen_ai.usage.input_tokens": prompt,
                        "gen_ai.usage.output_tokens": completion,
                        "gen_ai.usage.cache_read.input_tokens": cached},
        )  # fmt: skip
        span.end(end_time=_ns(start + timedelta(seconds=2.5)))

    def flush(self, timeout_ms: int = 30_000) -> bool:
        return all(p.force_flush(timeout_ms) for p in self._providers.values())

    def shutdown(self) -> None:
        for provider in self._providers.values():
            provider.shutdown()
