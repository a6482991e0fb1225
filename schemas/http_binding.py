"""CloudEvents HTTP binding (binary, structured, batch) -> validated events or errors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.binding import format_time
from schemas.envelope import EventError, OutcomeEvent, Reason, parse_event
from schemas.events import EventType, money_currency

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"


@dataclass(frozen=True, slots=True)
class Problem:
    index: int
    id: str | None
    reason: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "reason": self.reason, "detail": self.detail}


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_body(headers: Mapping[str, str], body: bytes) -> list[dict[str, Any]] | Problem:
    """The request's events as (attributes + data) dicts, or one problem for the body."""
    kind = media_type(headers.get("content-type"))
    if kind in (STRUCTURED, BATCH):
        return _json_body(body, batch=kind == BATCH)
    if "ce-specversion" in headers:
        return [_binary(headers, body)]
    return Problem(
        0, None, Reason.MALFORMED.value,
        "use ce-* headers with application/json (binary), application/cloudevents+json"
        " (structured) or application/cloudevents-batch+json (batch)",
    )  # fmt: skip


def _json_body(body: bytes, batch: bool) -> list[dict[str, Any]] | Problem:
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        return Problem(0, None, Reason.MALFORMED.value, f"body is not JSON: {error}")
    if batch and isinstance(document, list):
        return [item if isinstance(item, dict) else {"_not_object": item} for item in document]
    if not batch and isinstance(document, dict):
        return [document]
    shape = "a JSON array" if batch else "a JSON object"
    return Problem(0, None, Reason.MALFORMED.value, f"the body must be {shape}")


def _binary(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    document: dict[str, Any] = {
        name[3:]: value for name, value in headers.items() if name.startswith("ce-")
    }
    try:
        document["data"] = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        document["_bad_data"] = True
    return document


def project_named(document: dict[str, Any]) -> str | None:
    """The project an event says it is for (before validation), if it names one."""
    data = document.get("data")
    project = data.get("project") if isinstance(data, dict) else None
    return project if isinstance(project, str) else None


def with_time(document: dict[str, Any], now: datetime) -> dict[str, Any]:
    """`document` with `time` filled when the producer left it out (CloudEvents makes it
    optional): the receipt time; for an availability window, its end (its event time)."""
    if document.get("time") is not None:
        return document
    data = document.get("data")
    end = data.get("window_end") if isinstance(data, dict) else None
    if document.get("type") == EventType.AVAILABILITY_OBSERVED.value and isinstance(end, str):
        return {**document, "time": end}
    return {**document, "time": format_time(now)}


def validate(document: dict[str, Any], index: int, currency: str) -> OutcomeEvent | Problem:
    identifier = document.get("id") if isinstance(document.get("id"), str) else None
    if "_not_object" in document or document.get("_bad_data"):
        return Problem(index, identifier, Reason.MALFORMED.value, "event or data is not JSON")
    attributes = {k: v for k, v in document.items() if k != "data"}
    try:
        event = parse_event(attributes, document.get("data"))
    except EventError as error:
        return Problem(index, identifier, error.reason.value, error.detail)
    declared = money_currency(event.data)
    if declared is not None and declared != currency:
        detail = f"data.currency {declared!r} differs from the reporting currency {currency!r}"
        return Problem(index, identifier, Reason.CURRENCY.value, detail)
    return event
