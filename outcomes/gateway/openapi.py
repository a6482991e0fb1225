"""OpenAPI 3.1 description of the gateway (served at /openapi.json)."""

from __future__ import annotations

from typing import Any, Final

_ERROR: Final = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "id": {"type": ["string", "null"]},
                    "reason": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}


def _reply(description: str, schema: dict[str, Any] = _ERROR) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


OPENAPI: Final[dict[str, Any]] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Outcome telemetry gateway",
        "version": "1",
        "description": "HTTP ingest of outcome events (CloudEvents HTTP binding) into Kafka."
        " Event schemas: schemas/json/*.schema.json.",
    },
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/v1/events": {
            "post": {
                "summary": "Ingest one event (binary or structured mode) or a batch",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"description": "binary mode: ce-* headers"},
                        "application/cloudevents+json": {"schema": {"type": "object"}},
                        "application/cloudevents-batch+json": {
                            "schema": {"type": "array", "items": {"type": "object"}}
                        },
                    },
                },
                "responses": {
                    "202": _reply(
                        "every event acknowledged by the broker",
                        {
                            "type": "object",
                            "properties": {
                                "accepted": {"type": "integer"},
                                "ids": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    ),
                    "400": _reply(
                        "refused events (none accepted), with per-event index, id, reason"
                        " (invalid, malformed, unknown_type, currency, future, too_late) and detail"
                    ),
                    "401": _reply("missing or unknown bearer token"),
                    "403": _reply(
                        "a project is not allowed for this token (checked before the events)"
                    ),
                    "413": _reply("body too large"),
                    "429": _reply("over the token's rate limit; retry after Retry-After"),
                    "503": _reply("broker unavailable; retry after the Retry-After seconds"),
                },
            }
        },
        "/v1/hooks/{integration}": {
            "post": {
                "summary": "A tool's own webhook (GitHub, GitLab, Jenkins, AWX, Tekton, CDEvents),"
                " translated by the Integration declaration's rules (docs/INTEGRATIONS.md)",
                "security": [],
                "parameters": [
                    {
                        "name": "integration",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {
                    "202": _reply(
                        "accepted (events acknowledged by the broker), ignored (no outcome in"
                        " it), unmapped or invalid (kept in the dead-letter topic)",
                        {
                            "type": "object",
                            "properties": {
                                "result": {"enum": ["accepted", "ignored", "unmapped", "invalid"]},
                                "events": {"type": "integer"},
                            },
                        },
                    ),
                    "400": _reply("not the tool's JSON"),
                    "401": _reply("bad or missing signature or credentials (the tool's scheme)"),
                    "404": _reply("no such integration is declared"),
                    "413": _reply("body too large"),
                    "503": _reply("broker unavailable; the tool retries"),
                },
            }
        },
        "/v1/otlp/{integration}/v1/traces": {
            "post": {
                "summary": "OTLP/HTTP traces of an AI application (an otlp integration): model"
                " calls become outcomes.ai.usage, agent invocations runs (docs/INTEGRATIONS.md)",
                "description": "Authorization: Bearer <the integration's secret>."
                " Content-Encoding: gzip allowed. Answers in the request's encoding.",
                "security": [],
                "parameters": [
                    {
                        "name": "integration",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-protobuf": {
                            "schema": {"type": "string", "format": "binary"}
                        },
                        "application/json": {"schema": {"type": "object"}},
                    },
                },
                "responses": {
                    "200": _reply(
                        "ExportTraceServiceResponse; partial_success.rejected_spans"
                        " counts spans refused (not to be retried), with the reasons"
                    ),
                    "400": _reply("not an OTLP traces request (google.rpc.Status)"),
                    "401": _reply("not the integration's bearer token"),
                    "404": _reply("no otlp integration of that name"),
                    "413": _reply("body, or its gzip content, too large"),
                    "415": _reply("neither application/x-protobuf nor application/json"),
                    "503": _reply("broker unavailable; retry after Retry-After"),
                },
            }
        },
        "/v1/otlp/{integration}/v1/logs": {
            "post": {
                "summary": "OTLP/HTTP logs of an AI application; answered as traces are (no"
                " log record is counted by this version)",
                "security": [],
                "parameters": [
                    {
                        "name": "integration",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {"200": _reply("ExportLogsServiceResponse")},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (outcomes_gateway_hooks_total,"
                " outcomes_gateway_otlp_items_total)",
                "security": [],
                "responses": {"200": {"description": "text exposition"}},
            }
        },
        "/healthz": {"get": {"summary": "liveness", "responses": {"200": {"description": "ok"}}}},
    },
}
