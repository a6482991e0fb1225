"""`outcomes emit`: one event from flags, or a bulk import from JSONL / CSV.

A single event exits 0 only after the broker acknowledged it. A bulk import validates
every line and judges its time by the collector's rules (a line the collector would
reject `too_late` or `future` is refused here, by line number, instead of being sent to
the dead-letter topic), sends the good ones (acknowledged in batches) and exits non-zero
if any line was bad, refused or unsent. `--backfill` imports history: every line carries
the `outcomesbackfill` extension and is counted in its period however long ago it closed;
importing the same file again counts nothing twice (a CSV line without an id gets one
derived from its content).
"""

from __future__ import annotations

import csv
import hashlib
import json
import socket
import sys
import typing
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from collector.declarations.registry import DeclarationRegistry
from collector.engine.admission import check_currency
from collector.engine.timing import timing_problem
from collector.runtime import utc_now
from outcomes.sdk.delivery import KafkaSender
from outcomes.sdk.events import new_event
from schemas.binding import KafkaRecord, to_binary, to_structured_dict
from schemas.envelope import EventError, OutcomeEvent, Reason, parse_event
from schemas.events import DATA_MODELS, EventType, money_currency

KINDS: dict[str, EventType] = {
    "run": EventType.RUN_FINISHED,
    "cost": EventType.COST_INCURRED,
    "savings": EventType.SAVINGS_REALIZED,
    "availability": EventType.AVAILABILITY_OBSERVED,
    "incident-opened": EventType.INCIDENT_OPENED,
    "incident-resolved": EventType.INCIDENT_RESOLVED,
    "ai-usage": EventType.AI_USAGE,
    "review": EventType.REVIEW_RECORDED,
}
EMIT_DEFAULTS: dict[str, dict[str, float]] = {"run": {"human_effort_s": 0.0, "cost": 0.0}}
"""Flags a run may leave out: nobody stepped in, the run cost nothing."""
BATCH = 1000
SINGLE_ACK_TIMEOUT_S = 10.0
"""`outcomes emit KIND`: a broker that does not acknowledge by then is an error (exit 2)."""
BATCH_ACK_TIMEOUT_S = 30.0
"""`outcomes emit --file`: the same for each batch of `BATCH` events."""
MAX_SHOWN_ERRORS = 50


Judge = Callable[[OutcomeEvent, datetime], tuple[Reason, str] | None]
"""The collector's time rules for one event at an instant: None, or (reason, detail)."""


class EmitError(Exception):
    pass


IMPORT_SOURCE = "outcomes-cli/import"
"""The source of a file's lines that name none (`--source` overrides it): the same on every
host, so importing the file again from elsewhere still counts nothing twice."""


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


def time_judge(targets: Path | None, grace: timedelta, currency: str | None = None) -> Judge:
    """The collector's time rules with the projects' declared period kinds (from `targets`;
    without declarations every project is judged by month, as a collector judges an
    undeclared one), and its currency rule when `currency` (the reporting one) is given."""
    registry = DeclarationRegistry(targets)
    loaded = registry.reload()
    if loaded.errors:
        problems = "\n".join(str(error) for error in loaded.errors)
        raise EmitError(f"the declarations in {targets} are invalid:\n{problems}")
    catalog = loaded.catalog

    def judge(event: OutcomeEvent, now: datetime) -> tuple[Reason, str] | None:
        if currency is not None:
            try:
                check_currency(money_currency(event.data), currency)
            except EventError as error:
                return error.reason, error.detail
        return timing_problem(event, catalog.profile(event.project).period_kind, now, grace)

    return judge


def judge_one(event: OutcomeEvent, judge: Judge) -> None:
    """What the collector would refuse, said before sending: EmitError naming the reason
    (`currency`, `future`, `too_late`: history goes through `--file … --backfill`)."""
    problem = judge(event, utc_now())
    if problem is None:
        return
    reason, detail = problem
    hint = ""
    if reason is Reason.TOO_LATE:
        hint = " (history: put it in a file and `outcomes emit --file FILE --backfill`)"
    raise EmitError(f"{reason.value}: {detail}; nothing was sent{hint}")


def _flag_errors(error: ValidationError) -> str:
    """pydantic errors named by the flag a user typed (`--duration-s: ...`)."""
    parts = []
    for item in error.errors(include_url=False):
        name = str(item["loc"][0]).replace("_", "-") if item["loc"] else "(event)"
        parts.append(f"--{name}: {item['msg']}")
    return "; ".join(parts)


def send_one(event: OutcomeEvent, bootstrap_servers: str, topic: str) -> None:
    sender = _connect(bootstrap_servers, SINGLE_ACK_TIMEOUT_S)
    try:
        sender.send_batch(topic, [to_binary(event)])
    except Exception as error:  # noqa: BLE001 - reported, exit non-zero
        raise EmitError(f"the broker did not acknowledge the event: {error}") from None
    finally:
        sender.close()


def _connect(bootstrap_servers: str, ack_timeout_s: float = BATCH_ACK_TIMEOUT_S) -> KafkaSender:
    try:
        return KafkaSender(bootstrap_servers, ack_timeout_s=ack_timeout_s)
    except Exception as error:  # noqa: BLE001
        raise EmitError(f"cannot reach Kafka at {bootstrap_servers}: {error}") from None


def dry_run_text(event: OutcomeEvent) -> str:
    return json.dumps(to_structured_dict(event), indent=2)


@dataclass
class BulkResult:
    sent: int = 0
    bad: list[str] = field(default_factory=list)
    """`file:line: problem` of every line not sent: invalid, or refused by time."""
    refused: Counter[str] = field(default_factory=Counter)
    """Reason (too_late, future) -> lines refused for it (they are in `bad` too)."""
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


def _is_number(annotation: Any) -> bool:
    """Whether a field's type is a float, however wrapped (Optional, Annotated)."""
    if annotation is float:
        return True
    return any(_is_number(inner) for inner in typing.get_args(annotation))


def _csv_value(event_type: EventType, name: str, text: str) -> Any:
    annotation = DATA_MODELS[event_type].model_fields.get(name)
    if annotation is not None and _is_number(annotation.annotation):
        return float(text)
    if name == "links":
        return [part for part in text.split("|") if part]
    return text


def _csv_row(
    row: dict[str, str], source: str, occurrence: Callable[[str], int]
) -> OutcomeEvent | str:
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
        "source": row.get("source") or source,
        "type": event_type.value,
        "time": row.get("time") or None,
    }
    if attributes["id"] is None:
        attributes["id"] = _content_id(attributes, data, occurrence)

    try:
        return parse_event({k: v for k, v in attributes.items() if v is not None}, data)
    except EventError as error:
        return f"{error.reason.value}: {error.detail}"


def _content_id(
    attributes: dict[str, Any], data: dict[str, Any], occurrence: Callable[[str], int]
) -> str:
    """The id of a line that names none: a digest of what it says, and of how many equal
    lines came before it in the file (two identical runs are two events). Importing the
    file again yields the same ids, so the collector counts nothing twice."""
    said = {key: attributes[key] for key in ("type", "time")}
    content = json.dumps([said, data], sort_keys=True, default=str)
    digest = hashlib.blake2b(content.encode(), digest_size=12).hexdigest()
    return f"line-{digest}-{occurrence(digest)}"


def _csv(path: Path, source: str) -> Iterator[tuple[int, int, OutcomeEvent | str]]:
    seen: Counter[str] = Counter()

    def occurrence(digest: str) -> int:
        seen[digest] += 1
        return seen[digest]

    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "type" not in reader.fieldnames:
            yield 1, 0, "the header row must name a 'type' column"
            return
        for row in reader:
            size = sum(len(v or "") + 1 for v in row.values())
            yield reader.line_num, size, _csv_row(row, source, occurrence)


def read_events(
    path: Path, source: str = IMPORT_SOURCE
) -> Iterator[tuple[int, int, OutcomeEvent | str]]:
    """(line number, approximate bytes, event or error message) for every line; `source`
    for CSV lines without one (a JSONL line is a whole CloudEvent)."""
    if path.suffix.lower() == ".csv":
        return _csv(path, source)
    return _jsonl(path)


def bulk_import(
    path: Path,
    bootstrap_servers: str,
    topic: str,
    console: Console,
    dry_run: bool = False,
    *,
    judge: Judge | None = None,
    backfill: bool = False,
    source: str = IMPORT_SOURCE,
) -> BulkResult:
    """Validate every line, refuse those `judge` says the collector would reject, send the
    rest in acknowledged batches. `backfill`: mark every event as history."""
    result = BulkResult()
    now = datetime.now(UTC)
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
        for number, size, parsed in read_events(path, source):
            progress.advance(task, size)
            if isinstance(parsed, str):
                result.bad.append(f"{path}:{number}: {parsed}")
                continue
            event = parsed._replace(backfill=True) if backfill else parsed
            problem = None if judge is None else judge(event, now)
            if problem is not None:
                reason, detail = problem
                hint = "; history goes in with --backfill" if reason is Reason.TOO_LATE else ""
                result.bad.append(f"{path}:{number}: {reason.value}: {detail}{hint}")
                result.refused[reason.value] += 1
                continue
            pending.append((number, to_binary(event)))
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
    refused = sum(result.refused.values())
    reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(result.refused.items()))
    console.print(
        f"{result.sent} events {verb}, {refused} refused{f' ({reasons})' if reasons else ''},"
        f" {len(result.bad) - refused} bad lines, {len(result.unsent)} unsent"
    )
    return 1 if result.bad or result.unsent else 0
