"""`outcomes emit`: one event from flags, or a bulk import from JSONL / CSV.

A single event exits 0 only after the broker acknowledged it. A bulk import validates
every line, sends the good ones (acknowledged in batches), reports bad lines by number
and exits non-zero if any line was bad or could not be sent.
"""

from __future__ import annotations

import csv
import json
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from collector.sdk.delivery import KafkaSender
from collector.sdk.events import new_event
from schemas.binding import KafkaRecord, to_binary, to_structured_dict
from schemas.envelope import EventError, OutcomeEvent, parse_event
from schemas.events import DATA_MODELS, EventType

KINDS: dict[str, EventType] = {
    "run": EventType.RUN_FINISHED,
    "cost": EventType.COST_INCURRED,
    "savings": EventType.SAVINGS_REALIZED,
    "availability": EventType.AVAILABILITY_OBSERVED,
    "incident-opened": EventType.INCIDENT_OPENED,
    "incident-resolved": EventType.INCIDENT_RESOLVED,
}
EMIT_DEFAULTS: dict[str, dict[str, float]] = {"run": {"human_effort_s": 0.0, "cost": 0.0}}
"""Flags a run may leave out: nobody stepped in, the run cost nothing."""
BATCH = 1000
MAX_SHOWN_ERRORS = 50


class EmitError(Exception):
    pass


def default_source() -> str:
    return f"outcomes-cli/{socket.gethostname()}"


def event_from_flags(
    kind: str, values: dict[str, Any], source: str, event_id: str | None, time: str | None
) -> OutcomeEvent:
    """Build one event from CLI flag values (None = not given)."""
    data = {**EMIT_DEFAULTS.get(kind, {})}
    data.update({name: value for name, value in values.items() if value is not None})
    try:
        moment = datetime.fromisoformat(time.replace("Z", "+00:00")) if time else None
        return new_event(KINDS[kind], source, data, event_id=event_id, time=moment)
    except ValidationError as error:
        raise EmitError(_flag_errors(error)) from None
    except ValueError as error:
        raise EmitError(f"--time: {error}") from None


def _flag_errors(error: ValidationError) -> str:
    """pydantic errors named by the flag a user typed (`--duration-s: ...`)."""
    parts = []
    for item in error.errors(include_url=False):
        name = str(item["loc"][0]).replace("_", "-") if item["loc"] else "(event)"
        parts.append(f"--{name}: {item['msg']}")
    return "; ".join(parts)


def send_one(event: OutcomeEvent, bootstrap_servers: str, topic: str) -> None:
    sender = _connect(bootstrap_servers)
    try:
        sender.send_batch(topic, [to_binary(event)])
    except Exception as error:  # noqa: BLE001 - reported, exit non-zero
        raise EmitError(f"the broker did not acknowledge the event: {error}") from None
    finally:
        sender.close()


def _connect(bootstrap_servers: str) -> KafkaSender:
    try:
        return KafkaSender(bootstrap_servers, max_block_ms=10_000)
    except Exception as error:  # noqa: BLE001
        raise EmitError(f"cannot reach Kafka at {bootstrap_servers}: {error}") from None


def dry_run_text(event: OutcomeEvent) -> str:
    return json.dumps(to_structured_dict(event), indent=2)


@dataclass
class BulkResult:
    sent: int = 0
    bad: list[str] = field(default_factory=list)
    unsent: list[int] = field(default_factory=list)


def _jsonl(path: Path) -> Iterator[tuple[int, int, OutcomeEvent | str]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                yield number, len(raw), "empty line"
                continue
            yield number, len(raw), _parse_json_line(raw)


def _parse_json_line(raw: bytes) -> OutcomeEvent | str:
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return f"not JSON: {error}"
    if not isinstance(document, dict):
        return "not a JSON object"
    data = document.pop("data", None)
    try:
        return parse_event(document, data)
    except EventError as error:
        return f"{error.reason.value}: {error.detail}"


def _csv_value(event_type: EventType, name: str, text: str) -> Any:
    annotation = DATA_MODELS[event_type].model_fields.get(name)
    if annotation is not None and annotation.annotation in (float, float | None):
        return float(text)
    if name == "links":
        return [part for part in text.split("|") if part]
    return text


def _csv_row(row: dict[str, str]) -> OutcomeEvent | str:
    try:
        event_type = EventType(row.get("type", ""))
    except ValueError:
        return f"type: {row.get('type')!r} is not an outcome event type"
    data: dict[str, Any] = {}
    try:
        for name, text in row.items():
            if name not in ("type", "id", "source", "time") and text not in ("", None):
                data[name] = _csv_value(event_type, name, text)
    except ValueError as error:
        return f"{name}: {error}"
    attributes = {
        "specversion": "1.0",
        "id": row.get("id") or None,
        "source": row.get("source") or default_source(),
        "type": event_type.value,
        "time": row.get("time") or None,
    }
    try:
        return parse_event(
            {k: v for k, v in attributes.items() if v is not None} | _fill_id(attributes), data
        )
    except EventError as error:
        return f"{error.reason.value}: {error.detail}"


def _fill_id(attributes: dict[str, Any]) -> dict[str, Any]:
    import uuid

    return {} if attributes["id"] else {"id": str(uuid.uuid4())}


def _csv(path: Path) -> Iterator[tuple[int, int, OutcomeEvent | str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "type" not in reader.fieldnames:
            yield 1, 0, "the header row must name a 'type' column"
            return
        for row in reader:
            yield reader.line_num, sum(len(v or "") + 1 for v in row.values()), _csv_row(row)


def read_events(path: Path) -> Iterator[tuple[int, int, OutcomeEvent | str]]:
    """(line number, approximate bytes, event or error message) for every line."""
    if path.suffix.lower() == ".csv":
        return _csv(path)
    return _jsonl(path)


def bulk_import(
    path: Path, bootstrap_servers: str, topic: str, console: Console, dry_run: bool = False
) -> BulkResult:
    """Validate every line, send the good ones in acknowledged batches."""
    result = BulkResult()
    sender = None if dry_run else _connect(bootstrap_servers)
    pending: list[tuple[int, KafkaRecord]] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"importing {path.name}", total=max(1, path.stat().st_size))
        for number, size, parsed in read_events(path):
            progress.advance(task, size)
            if isinstance(parsed, str):
                result.bad.append(f"{path}:{number}: {parsed}")
                continue
            pending.append((number, to_binary(parsed)))
            if len(pending) >= BATCH:
                _flush(sender, topic, pending, result)
        _flush(sender, topic, pending, result)
    if sender is not None:
        sender.close()
    return result


def _flush(
    sender: KafkaSender | None,
    topic: str,
    pending: list[tuple[int, KafkaRecord]],
    result: BulkResult,
) -> None:
    if not pending:
        return
    try:
        if sender is not None:
            sender.send_batch(topic, [record for _, record in pending])
        result.sent += len(pending)
    except Exception:  # noqa: BLE001 - reported by line number
        result.unsent.extend(number for number, _ in pending)
    pending.clear()


def report(result: BulkResult, console: Console, dry_run: bool) -> int:
    for message in result.bad[:MAX_SHOWN_ERRORS]:
        print(message, file=sys.stderr)
    if len(result.bad) > MAX_SHOWN_ERRORS:
        print(f"... and {len(result.bad) - MAX_SHOWN_ERRORS} more bad lines", file=sys.stderr)
    if result.unsent:
        lines = ", ".join(map(str, result.unsent[:20]))
        print(
            f"{len(result.unsent)} valid lines were not acknowledged by the broker"
            f" (lines {lines}...)",
            file=sys.stderr,
        )
    verb = "valid (dry run, nothing sent)" if dry_run else "sent"
    console.print(
        f"{result.sent} events {verb}, {len(result.bad)} bad lines, {len(result.unsent)} unsent"
    )
    return 1 if result.bad or result.unsent else 0
