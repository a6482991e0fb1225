"""`outcomes import focus FILE…`: cloud bills in, cost events out, every row accounted for.

Each row becomes a cost event for the project named by its tag, or is counted under the
reason it was not sent: no tag, another currency, invalid, zero cost, or refused by the
collector's time rules (`too_late` without `--backfill`, `future`). Rows without the tag,
in another currency or invalid go to the rejects file (`--rejects`, CSV with a `reason`
column), never to another project. Events are sent in acknowledged batches; `--dry-run`
sends nothing and prints the same summary.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Final

import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from collector.engine.units import MONEY_SCALE, to_money
from outcomes.importers.events_file import Judge
from outcomes.importers.focus.files import FocusFileError, rows, size_of
from outcomes.importers.focus.mapping import UTC_ASSUMED, Skip, Skipped, TagMap, to_event
from outcomes.sdk.delivery import KafkaSender
from schemas.binding import KafkaRecord, to_binary
from schemas.envelope import OutcomeEvent

BATCH: Final = 1000
REJECTED: Final = (Skip.NO_TAG, Skip.CURRENCY, Skip.INVALID, Skip.TOO_LATE, Skip.FUTURE)
"""Reasons whose rows are written to the rejects file (zero-cost rows are not)."""


@dataclass
class ImportResult:
    read: int = 0
    sent: int = 0
    unsent: int = 0
    repeated: int = 0
    """Rows with the same identity as an earlier row of this import: the collector counts
    one of them (overlapping exports are expected to repeat rows)."""
    skipped: Counter[str] = field(default_factory=Counter)
    projects: dict[str, list[int]] = field(default_factory=dict)
    """project -> [rows, amount in billionths] of the rows sent (or, dry run, to send)."""
    notes: Counter[str] = field(default_factory=Counter)
    """What was assumed, by kind (timestamps without a zone taken as UTC)."""


@dataclass(frozen=True)
class Options:
    project_tag: str
    cost_column: str
    currency: str
    backfill: bool
    dry_run: bool
    judge: Judge
    tag_map: TagMap = field(default_factory=TagMap)


class _Rejects:
    """The rejects CSV: each rejected row's columns, plus file, reason and detail."""

    def __init__(self, handle: IO[str] | None) -> None:
        self._handle = handle
        self._writer: csv.DictWriter[str] | None = None

    def write(self, path: Path, row: dict[str, Any], reason: str, detail: str) -> None:
        if self._handle is None:
            return
        if self._writer is None:
            names = ["file", "reason", "detail", *row]
            self._writer = csv.DictWriter(self._handle, names, extrasaction="ignore", restval="")
            self._writer.writeheader()
        self._writer.writerow({**row, "file": str(path), "reason": reason, "detail": detail})


def import_focus(
    paths: list[Path],
    options: Options,
    *,
    bootstrap_servers: str,
    topic: str,
    console: Console,
    rejects: IO[str] | None = None,
) -> ImportResult:
    result = ImportResult()
    sender = None if options.dry_run else KafkaSender(bootstrap_servers, max_block_ms=10_000)
    pending: list[KafkaRecord] = []
    seen: set[str] = set()
    writer = _Rejects(rejects)
    now = datetime.now(UTC)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            for path in paths:
                task = progress.add_task(f"importing {path.name}", total=max(1, size_of(path)))

                def advance(done: int, task: TaskID = task) -> None:
                    progress.advance(task, done)

                for row in rows(path, advance):
                    result.read += 1
                    outcome = _one(row, options, now, result.notes)
                    if isinstance(outcome, Skipped):
                        result.skipped[outcome.reason.value] += 1
                        if outcome.reason in REJECTED:
                            writer.write(path, row, outcome.reason.value, outcome.detail)
                        continue
                    if outcome.id in seen:
                        result.repeated += 1
                        continue
                    seen.add(outcome.id)
                    _count(result, outcome)
                    pending.append(to_binary(outcome))
                    if len(pending) >= BATCH:
                        _flush(sender, topic, pending, result)
                progress.update(task, completed=max(1, size_of(path)))
            _flush(sender, topic, pending, result)
    finally:
        if sender is not None:
            sender.close()
    return result


def _one(
    row: dict[str, Any], options: Options, now: datetime, notes: Counter[str]
) -> OutcomeEvent | Skipped:
    event = to_event(
        row,
        project_tag=options.project_tag,
        cost_column=options.cost_column,
        currency=options.currency,
        tag_map=options.tag_map,
        notes=notes,
    )
    if isinstance(event, Skipped):
        return event
    if options.backfill:
        event = event._replace(backfill=True)
    problem = options.judge(event, now)
    if problem is not None:
        reason, detail = problem  # too_late or future: the collector's time rules
        hint = " (import history with --backfill)" if reason.value == Skip.TOO_LATE else ""
        return Skipped(Skip(reason.value), detail + hint, event.project)
    return event


def _count(result: ImportResult, event: OutcomeEvent) -> None:
    entry = result.projects.setdefault(event.project, [0, 0])
    entry[0] += 1
    entry[1] += to_money(event.data.amount)  # type: ignore[union-attr]


def _flush(
    sender: KafkaSender | None, topic: str, pending: list[KafkaRecord], result: ImportResult
) -> None:
    if not pending:
        return
    try:
        if sender is not None:
            sender.send_batch(topic, pending)
        result.sent += len(pending)
    except Exception:  # noqa: BLE001 - counted and reported
        result.unsent += len(pending)
    pending.clear()


def summary(result: ImportResult, options: Options, console: Console) -> int:
    """Print what happened; exit 1 if a row was invalid or a batch not acknowledged."""
    verb = "to send (dry run, nothing sent)" if options.dry_run else "sent"
    table = Table(title=f"FOCUS import — {options.cost_column}, currency {options.currency}")
    table.add_column("project")
    table.add_column("rows", justify="right")
    table.add_column(f"cost {options.currency}", justify="right")
    for project, (count, amount) in sorted(result.projects.items()):
        table.add_row(project, f"{count:,}", f"{Decimal(amount) / MONEY_SCALE:,.6f}")
    console.print(table)
    events = sum(count for count, _ in result.projects.values())
    lines = [
        f"{result.read:,} rows read, {events if options.dry_run else result.sent:,} events {verb}"
    ]
    if result.repeated:
        lines.append(f"{result.repeated:,} rows repeat an earlier row's identity (counted once)")
    for reason, count in sorted(result.skipped.items()):
        lines.append(f"{count:,} rows skipped: {reason}")
    zero = result.skipped.get(Skip.ZERO, 0)
    lines.append(f"cost column {options.cost_column}: 0 on {zero:,} of {result.read:,} rows")
    if options.cost_column == "EffectiveCost" and result.read and zero * 2 > result.read:
        lines.append("most rows have no EffectiveCost: the invoiced amounts are in BilledCost"
                     " (--cost-column BilledCost)")  # fmt: skip
    lines.append(
        "projects: the tag's value"
        + (" through --tag-map, else" if options.tag_map.entries else ",")
        + " lowercased with CamelCase boundaries and spaces as '-' (BrightPathMatrix ->"
        " bright-path-matrix)"
    )
    if result.notes[UTC_ASSUMED]:
        lines.append(f"warning: {result.notes[UTC_ASSUMED]:,} rows had ChargePeriodStart without"
                     " a timezone: taken as UTC, as FOCUS defines its times")  # fmt: skip
    if result.unsent:
        lines.append(f"{result.unsent:,} events not acknowledged by the broker")
    for line in lines:
        console.print(line)
    return 1 if result.unsent or result.skipped.get(Skip.INVALID) else 0


EXPORT_SUFFIXES: Final = (".csv", ".gz", ".parquet")


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given; a directory stands for every export file below it (`*.csv`,
    `*.csv.gz`, `*.parquet`), in name order — a bucket's export folder synced locally."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix in EXPORT_SUFFIXES
            )
        elif path.is_file():
            found.append(path)
        else:
            raise FocusFileError(f"{path}: no such file or directory")
    if not found:
        raise FocusFileError(f"no export files in {', '.join(map(str, paths))}")
    return found


def load_tag_map(path: Path | None) -> TagMap:
    """`--tag-map FILE`: a YAML mapping `tag value or glob: project`, in order."""
    if path is None:
        return TagMap()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise FocusFileError(f"--tag-map {path}: {error}") from None
    if not isinstance(document, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in document.items()
    ):
        raise FocusFileError(f"--tag-map {path}: give a mapping of tag values to project names")
    return TagMap(tuple(document.items()))
