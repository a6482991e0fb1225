"""What an OpenTelemetry GenAI span says, whichever instrumentation wrote it.

The GenAI semantic conventions are still "Development": names move, and libraries write
different ones (the official instrumentations, OpenLLMetry, OpenInference). Each value is
read through a fallback chain: the current convention, then the legacy names, then
OpenInference's (docs/INTEGRATIONS.md, "AI applications").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

Value = str | bool | int | float
Attributes = Mapping[str, Value]

TOKENS: Final = {
    "input_tokens": (
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
        "llm.token_count.prompt",
    ),
    "output_tokens": (
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.token_count.completion",
    ),
    "cache_read_tokens": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read",
    ),
    "cache_write_tokens": (
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
        "llm.token_count.prompt_details.cache_write",
    ),
    "reasoning_tokens": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning",
    ),
}
"""Each token count of `outcomes.ai.usage` and the attributes that may carry it, in order."""
PROVIDER: Final = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
MODEL: Final = (
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.model_name",
    "embedding.model_name",
)
OPERATION: Final = "gen_ai.operation.name"
OPENINFERENCE_KIND: Final = "openinference.span.kind"
OPENINFERENCE_OPERATIONS: Final = {
    "LLM": "chat",
    "EMBEDDING": "embeddings",
    "AGENT": "invoke_agent",
}
RUN_OPERATIONS: Final = frozenset({"invoke_agent", "invoke_workflow"})
"""Spans that are a run of the AI project (their usage aggregates their children's)."""
BOOKKEEPING_OPERATIONS: Final = frozenset({"create_agent", "execute_tool"})
COST: Final = ("gen_ai.usage.cost.amount", "gen_ai.usage.cost", "llm.cost.total")
COST_CURRENCY: Final = "gen_ai.usage.cost.currency"
UNKNOWN: Final = "unknown"

Kind = Literal["usage", "run", "ignored"]


class GenAIError(ValueError):
    """The span is a model call, but a value it reports cannot be counted."""


@dataclass(frozen=True, slots=True)
class SpanKind:
    kind: Kind
    operation: str | None
    why: str = ""
    """Why it is ignored."""


def first(attributes: Attributes, names: tuple[str, ...]) -> Value | None:
    return next((attributes[name] for name in names if name in attributes), None)


def operation_of(attributes: Attributes) -> str | None:
    found = attributes.get(OPERATION)
    if isinstance(found, str) and found:
        return found
    kind = attributes.get(OPENINFERENCE_KIND)
    return OPENINFERENCE_OPERATIONS.get(kind) if isinstance(kind, str) else None


def has_usage(attributes: Attributes) -> bool:
    return any(name in attributes for name in TOKENS["input_tokens"] + TOKENS["output_tokens"])


def classify(attributes: Attributes) -> SpanKind:
    """A run (agent or workflow invocation), a model call (a span with token usage), or
    ignored (not GenAI, agent bookkeeping, or a GenAI span without usage)."""
    operation = operation_of(attributes)
    if operation in RUN_OPERATIONS:
        return SpanKind("run", operation)
    if operation in BOOKKEEPING_OPERATIONS:
        return SpanKind("ignored", operation, f"a {operation} span (not a model call)")
    if has_usage(attributes):
        return SpanKind("usage", operation or "chat")
    if operation is not None or any(name.startswith("gen_ai.") for name in attributes):
        return SpanKind("ignored", operation, "a GenAI span without token usage")
    return SpanKind("ignored", None, "not a GenAI span")


def _whole(name: str, value: Value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GenAIError(f"{name} must be a whole number of tokens, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise GenAIError(f"{name} must be a whole number of tokens, got {value!r}")
    if value < 0:
        raise GenAIError(f"{name} must not be negative, got {value!r}")
    return int(value)


def usage_data(attributes: Attributes, reporting_currency: str) -> dict[str, object]:
    """The model-call fields of `outcomes.ai.usage` (provider, model, operation, tokens,
    cost); GenAIError when a count or the cost cannot be counted."""
    data: dict[str, object] = {
        "provider": _name(first(attributes, PROVIDER)),
        "model": str(first(attributes, MODEL) or UNKNOWN),
        "operation": _name(operation_of(attributes) or "chat"),
    }
    for field, names in TOKENS.items():
        found = next((name for name in names if name in attributes), None)
        if found is not None:
            data[field] = _whole(found, attributes[found])
        elif field in ("input_tokens", "output_tokens"):
            data[field] = 0  # an embedding has no output; the other count is what was said
    cost = first(attributes, COST)
    if cost is not None:
        data["cost"] = _cost(cost, attributes.get(COST_CURRENCY), reporting_currency)
    return data


def _cost(cost: Value, currency: Value | None, reporting: str) -> float:
    if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
        raise GenAIError(f"the reported cost must be a non-negative number, got {cost!r}")
    stated = str(currency).upper() if currency is not None else "USD"
    if stated != reporting:
        raise GenAIError(
            f"the reported cost is in {stated}, not the reporting currency {reporting}"
            + ("" if currency is not None else " (a cost without a currency is taken as USD)")
        )
    return float(cost)


def _name(value: Value | None) -> str:
    return str(value).strip().lower() if value not in (None, "") else UNKNOWN
