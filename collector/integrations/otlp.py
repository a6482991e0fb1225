"""OTLP/HTTP requests of a `type: otlp` integration -> outcome events, item by item.

Requests are decoded with the opentelemetry-proto messages: protobuf, or JSON as the OTLP
spec writes it (lowerCamelCase, trace and span ids in hex, unknown fields ignored). Every
span is one item: a model call (`outcomes.ai.usage`), an agent or workflow invocation
(`outcomes.run.finished`), or ignored (not GenAI, agent bookkeeping, no token usage);
a GenAI item no rule maps is unmapped (kept whole, with its resource, for a replay); one
whose values cannot be counted is invalid. Evaluation results (`gen_ai.evaluation.result`
log records, or span events) named as a rule's `review.evaluation` become reviews
(`outcomes.review.recorded`) of the run of the span they belong to. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, TypeVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from collector.integrations.declaration import IntegrationDeclaration, Rule, render
from collector.integrations.genai import Attributes, GenAIError, Value, classify, usage_data
from collector.integrations.model import (
    Accepted,
    Ignored,
    Invalid,
    MalformedError,
    Translation,
    Unmapped,
)
from schemas.binding import format_time
from schemas.envelope import EventError, OutcomeEvent, parse_event

Signal = Literal["traces", "logs"]
Result = Literal["usage", "run", "review", "ignored", "unmapped", "invalid"]
PROTOBUF: Final = "application/x-protobuf"
JSON: Final = "application/json"
MEDIA_TYPES: Final = (PROTOBUF, JSON)
_ID_FIELDS: Final = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id"})
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_AUTOMATION: Final = "{resource.service.name}"
EVALUATION_EVENT: Final = "gen_ai.evaluation.result"
EVALUATION_NAME: Final = "gen_ai.evaluation.name"
SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
REVIEW_EFFORT: Final = "outcomes.review.human_effort_s"
_OI_EVALUATION: Final = re.compile(r"^evaluations\.(\d+)\.evaluation\.name$")
"""Not a GenAI convention: an application may say how long the review took."""
M = TypeVar("M", bound=Message)


class UnsupportedMediaError(ValueError):
    """Neither OTLP protobuf nor OTLP JSON."""


@dataclass(frozen=True, slots=True)
class Item:
    """What became of one span or log record."""

    result: Result
    event: OutcomeEvent | None = None
    detail: str = ""
    letter: bytes | None = None
    """Unmapped: the item alone as an OTLP JSON request, its resource and scope kept."""


def media_type(content_type: str) -> str:
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise UnsupportedMediaError(
            f"Content-Type {content_type or '(none)'!r}: OTLP/HTTP takes {PROTOBUF} or {JSON}"
        )
    return media


def decode_traces(body: bytes, media: str) -> ExportTraceServiceRequest:
    """An OTLP traces export request; MalformedError when it does not decode."""
    return _decode(ExportTraceServiceRequest(), "traces", body, media)


def decode_logs(body: bytes, media: str) -> ExportLogsServiceRequest:
    """An OTLP logs export request; MalformedError when it does not decode."""
    return _decode(ExportLogsServiceRequest(), "logs", body, media)


def _decode(request: M, signal: Signal, body: bytes, media: str) -> M:
    try:
        if media == PROTOBUF:
            request.ParseFromString(body)
        else:
            document = json.loads(body)
            if not isinstance(document, dict):
                raise MalformedError("an OTLP JSON request is an object")
            json_format.ParseDict(_ids_as_base64(document), request, ignore_unknown_fields=True)
    except (DecodeError, json_format.ParseError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise MalformedError(f"not an OTLP {signal} request: {error}") from None
    except RecursionError:
        raise MalformedError(f"not an OTLP {signal} request: nested too deeply") from None
    return request


def _ids_as_base64(node: Any) -> Any:
    """OTLP JSON writes ids in hex; protobuf's JSON mapping reads bytes as base64."""
    if isinstance(node, dict):
        return {
            key: _hex_to_base64(value) if key in _ID_FIELDS and isinstance(value, str)
            else _ids_as_base64(value)
            for key, value in node.items()
        }  # fmt: skip
    if isinstance(node, list):
        return [_ids_as_base64(value) for value in node]
    return node


def _hex_to_base64(value: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except ValueError:
        raise MalformedError(f"id {value!r} is not hex") from None


def _ids_as_hex(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: base64.b64decode(value).hex() if key in _ID_FIELDS and isinstance(value, str)
            else _ids_as_hex(value)
            for key, value in node.items()
        }  # fmt: skip
    if isinstance(node, list):
        return [_ids_as_hex(value) for value in node]
    return node


def to_json(message: Message) -> bytes:
    """`message` as OTLP JSON (ids in hex)."""
    try:
        document = _ids_as_hex(json_format.MessageToDict(message))
    except binascii.Error:  # pragma: no cover - protobuf always writes valid base64
        document = json_format.MessageToDict(message)
    return json.dumps(document, separators=(",", ":")).encode()


def response(signal: Signal, rejected: int, message: str) -> Message:
    """The export response: `partial_success` only when items were rejected."""
    if signal == "traces":
        if not rejected:
            return ExportTraceServiceResponse()
        partial = ExportTracePartialSuccess(rejected_spans=rejected, error_message=message)
        return ExportTraceServiceResponse(partial_success=partial)
    if not rejected:
        return ExportLogsServiceResponse()
    logs = ExportLogsPartialSuccess(rejected_log_records=rejected, error_message=message)
    return ExportLogsServiceResponse(partial_success=logs)


def encode(message: Message, media: str) -> bytes:
    return message.SerializeToString() if media == PROTOBUF else to_json(message)


def attributes_of(pairs: Any) -> dict[str, Value]:
    """Scalar attributes by key (arrays and maps are not read)."""
    found: dict[str, Value] = {}
    for pair in pairs:
        value = _scalar(pair.value)
        if value is not None:
            found[pair.key] = value
    return found


def _scalar(value: AnyValue) -> Value | None:
    kind = value.WhichOneof("value")
    if kind in ("string_value", "bool_value", "int_value", "double_value"):
        return getattr(value, kind)  # type: ignore[no-any-return]
    return None


def _fields(resource: Attributes, attributes: Attributes) -> dict[str, str]:
    """What rules match and templates use: `resource.<key>` and the span's attributes."""
    fields = {f"resource.{key}": _text(value) for key, value in resource.items()}
    fields.update((key, _text(value)) for key, value in attributes.items())
    return fields


def _text(value: Value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def first_rule(declaration: IntegrationDeclaration, fields: Mapping[str, str]) -> Rule | None:
    return next(
        (
            rule
            for rule in declaration.spec.rules
            if all(
                name in fields and fnmatch.fnmatchcase(fields[name], pattern)
                for name, pattern in rule.match.items()
            )
        ),
        None,
    )


def span_items(
    declaration: IntegrationDeclaration, request: ExportTraceServiceRequest, currency: str
) -> Iterator[Item]:
    """One item per span of the request, in order."""
    for resource_spans in request.resource_spans:
        resource = attributes_of(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield _span_item(
                    declaration,
                    span,
                    resource=resource,
                    resource_spans=resource_spans,
                    scope_spans=scope_spans,
                    currency=currency,
                )
                yield from _span_reviews(declaration, resource, span)


def _span_reviews(
    declaration: IntegrationDeclaration, resource: Attributes, span: Span
) -> Iterator[Item]:
    """Evaluation results carried by the span itself: `gen_ai.evaluation.result` span events,
    and OpenInference's `evaluations.{i}.evaluation.*` attributes (human ones only; their
    time: the span's end)."""
    for event in span.events:
        if event.name == EVALUATION_EVENT:
            context = (span.trace_id, span.span_id, event.time_unix_nano)
            yield _review_item(
                declaration, resource, attributes_of(event.attributes), context, None
            )
    attributes = attributes_of(span.attributes)
    for index in sorted(
        {int(m.group(1)) for key in attributes if (m := _OI_EVALUATION.match(key))}
    ):
        prefix = f"evaluations.{index}.evaluation."
        if str(attributes.get(prefix + "annotator_kind", "HUMAN")).upper() != "HUMAN":
            continue
        converted: dict[str, Value] = {
            EVALUATION_NAME: attributes.get(prefix + "name", ""),
            SCORE_LABEL: attributes.get(prefix + "label", ""),
        }
        context = (span.trace_id, span.span_id, span.end_time_unix_nano + index)
        yield _review_item(declaration, resource, converted, context, None)


def _span_item(
    declaration: IntegrationDeclaration,
    span: Span,
    *,
    resource: Attributes,
    resource_spans: ResourceSpans,
    scope_spans: ScopeSpans,
    currency: str,
) -> Item:
    attributes = attributes_of(span.attributes)
    kind = classify(attributes)
    if kind.kind == "ignored":
        return Item("ignored", detail=kind.why)
    fields = _fields(resource, attributes)
    rule = first_rule(declaration, fields)
    if rule is None:
        return Item(
            "unmapped",
            detail=f"no rule of integration {declaration.name!r} matched this {kind.kind} span"
            f" (service {fields.get('resource.service.name', '?')!r}, {span.name!r})",
            letter=to_json(_alone(resource_spans, scope_spans, span)),
        )
    try:
        attributes_ce = _attributes(declaration.name, span, kind.kind)
        data = _names(rule, fields)
        if kind.kind == "usage":
            data.update(usage_data(attributes, currency))
        else:
            data.update(_run(rule, span))
        event = parse_event(attributes_ce, data)
    except (GenAIError, EventError) as error:
        detail = error.detail if isinstance(error, EventError) else str(error)
        return Item("invalid", detail=f"span {span.span_id.hex() or '?'}: {detail}")
    return Item(kind.kind, event)


REDACTED_PREFIXES: Final = (
    "gen_ai.headers",  # OpenLLMetry copies the caller's extra headers: API keys
    "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
    "gen_ai.prompt", "gen_ai.completion", "gen_ai.tool.call.",
    "llm.input_messages", "llm.output_messages", "llm.prompts", "llm.prompt_template",
    "input.value", "output.value", "embedding.embeddings",
)  # fmt: skip
"""Attributes never copied into a dead letter: credentials, prompts and completions.
Nothing the translator reads is among them, so a replay maps the letter as it would
have mapped the span."""
NOT_KEPT: Final = (*REDACTED_PREFIXES, "gen_ai.evaluation.explanation")
"""... nor an evaluation's explanation (it may quote the output)."""


def _redacted(span: Span) -> Span:
    kept = Span()
    kept.CopyFrom(span)
    del kept.attributes[:]
    kept.attributes.extend(
        pair for pair in span.attributes if not pair.key.startswith(REDACTED_PREFIXES)
    )
    del kept.events[:]  # span events carry prompts and completions too ...
    for event in span.events:  # ... but a review must replay with its span
        if event.name == EVALUATION_EVENT:
            review = kept.events.add()
            review.CopyFrom(event)
            del review.attributes[:]
            review.attributes.extend(
                pair for pair in event.attributes if not pair.key.startswith(NOT_KEPT)
            )
    return kept


def _alone(resource_spans: ResourceSpans, scope_spans: ScopeSpans, span: Span) -> Message:
    scope = ScopeSpans(
        scope=scope_spans.scope, spans=[_redacted(span)], schema_url=scope_spans.schema_url
    )
    alone = ResourceSpans(
        resource=resource_spans.resource, scope_spans=[scope], schema_url=resource_spans.schema_url
    )
    return ExportTraceServiceRequest(resource_spans=[alone])


def _attributes(integration: str, span: Span, kind: str) -> dict[str, str]:
    if len(span.trace_id) != 16 or len(span.span_id) != 8:
        raise GenAIError("a span needs a 16-byte trace id and an 8-byte span id")
    if not span.end_time_unix_nano:
        raise GenAIError("the span has no end time")
    return {
        "specversion": "1.0",
        "id": f"{span.trace_id.hex()}-{span.span_id.hex()}",
        "source": f"otlp/{integration}",
        "type": "outcomes.ai.usage" if kind == "usage" else "outcomes.run.finished",
        "time": format_time(_EPOCH + timedelta(microseconds=span.end_time_unix_nano // 1000)),
    }


def _names(rule: Rule, fields: Mapping[str, str]) -> dict[str, object]:
    automation = render(rule.automation or DEFAULT_AUTOMATION, dict(fields)) or "unknown"
    return {"project": render(rule.project, dict(fields)), "automation": automation}


def _run(rule: Rule, span: Span) -> dict[str, object]:
    duration_s = max(span.end_time_unix_nano - span.start_time_unix_nano, 0) / 1e9
    failed = span.status.code == Status.STATUS_CODE_ERROR
    return {
        "outcome": "failed" if failed else "succeeded",
        "duration_s": round(duration_s, 6),
        "manual_duration_s": rule.manualDurationS,
        "human_effort_s": rule.humanEffortS,
        "cost": round(rule.cost + rule.costPerHour * duration_s / 3600, 9),
    }


def log_items(
    declaration: IntegrationDeclaration, request: ExportLogsServiceRequest
) -> Iterator[Item]:
    """One item per log record: an evaluation result a rule takes as a review, or
    ignored (any other log record)."""
    for resource_logs in request.resource_logs:
        resource = attributes_of(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                attributes = attributes_of(record.attributes)
                name = record.event_name or str(attributes.get("event.name", ""))
                if name != EVALUATION_EVENT:
                    yield Item("ignored", detail="not a gen_ai.evaluation.result event")
                    continue
                moment = record.time_unix_nano or record.observed_time_unix_nano
                alone = _log_alone(resource_logs, scope_logs, record)
                yield _review_item(
                    declaration, resource, attributes, (record.trace_id, record.span_id, moment),
                    alone,
                )  # fmt: skip


def _review_item(
    declaration: IntegrationDeclaration,
    resource: Attributes,
    attributes: Attributes,
    context: tuple[bytes, bytes, int],
    letter: Message | None,
) -> Item:
    """An evaluation result: a review of the run of span (trace id, span id) when a rule
    matching it names its evaluation; (ids, time in ns) of the evaluated span."""
    evaluation = str(attributes.get(EVALUATION_NAME, ""))
    fields = _fields(resource, attributes)
    rule = first_rule(declaration, fields)
    if rule is None:
        return Item(
            "unmapped",
            detail=f"no rule of integration {declaration.name!r} matched evaluation"
            f" {evaluation!r} (service {fields.get('resource.service.name', '?')!r})",
            letter=None if letter is None else to_json(letter),
        )
    if rule.review is None or rule.review.evaluation != evaluation:
        return Item("ignored", detail=f"evaluation {evaluation!r} is not a review by the rules")
    trace_id, span_id, moment_ns = context
    try:
        if len(trace_id) != 16 or len(span_id) != 8:
            raise GenAIError("an evaluation result needs the trace and span id of the run")
        if not moment_ns:
            raise GenAIError("the evaluation result has no time")
        label = str(attributes.get(SCORE_LABEL, "")).lower()
        verdicts = {key.lower(): verdict for key, verdict in rule.review.verdicts.items()}
        if label not in verdicts:
            raise GenAIError(
                f"{SCORE_LABEL} {label!r} is none of the rule's verdicts ({', '.join(verdicts)})"
            )
        subject = f"{trace_id.hex()}-{span_id.hex()}"
        data = _names(rule, fields) | {"subject": subject, "verdict": verdicts[label]}
        effort = attributes.get(REVIEW_EFFORT, rule.review.humanEffortS)
        if effort is not None:
            data["human_effort_s"] = effort
        event = parse_event(
            {
                "specversion": "1.0",
                "id": f"{subject}-review-{moment_ns}",
                "source": f"otlp/{declaration.name}",
                "type": "outcomes.review.recorded",
                "time": format_time(_EPOCH + timedelta(microseconds=moment_ns // 1000)),
            },
            data,
        )
    except (GenAIError, EventError) as error:
        detail = error.detail if isinstance(error, EventError) else str(error)
        return Item("invalid", detail=f"evaluation {evaluation!r}: {detail}")
    return Item("review", event)


def _log_alone(resource_logs: ResourceLogs, scope_logs: ScopeLogs, record: LogRecord) -> Message:
    kept = LogRecord()
    kept.CopyFrom(record)
    kept.ClearField("body")  # an evaluation's explanation may quote the output
    del kept.attributes[:]
    kept.attributes.extend(pair for pair in record.attributes if not pair.key.startswith(NOT_KEPT))
    scope = ScopeLogs(scope=scope_logs.scope, log_records=[kept], schema_url=scope_logs.schema_url)
    alone = ResourceLogs(
        resource=resource_logs.resource, scope_logs=[scope], schema_url=resource_logs.schema_url
    )
    return ExportLogsServiceRequest(resource_logs=[alone])


def receive_otlp(
    declaration: IntegrationDeclaration, body: bytes, currency: str = "USD"
) -> Translation:
    """A dead-lettered item (an OTLP JSON traces or logs request) through the integration's
    current rules (`outcomes dlq replay`): all of its items must map to be accepted."""
    if b'"resourceLogs"' in body[:64]:
        items = list(log_items(declaration, decode_logs(body, JSON)))
    else:
        items = list(span_items(declaration, decode_traces(body, JSON), currency))
    events = tuple(item.event for item in items if item.event is not None)
    problems = [item for item in items if item.result in ("unmapped", "invalid")]
    if problems:
        first = problems[0]
        return Unmapped(why=first.detail) if first.result == "unmapped" else Invalid(first.detail)
    if not events:
        return Ignored(items[0].detail if items else "no spans")
    return Accepted(events)
