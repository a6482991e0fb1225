"""`outcomes import focus FILE…`: cloud bills in, statements out, every row accounted for.

Each row is a charge of the project named by its tag in its statement (ProviderName,
BillingAccountId, BillingPeriodStart), or is counted under the reason it is not: no tag,
another currency, invalid, zero cost, or a charge day in the future. Rows without the tag,
in another currency, invalid or in the future go to the rejects file (`--rejects`, CSV with
a `reason` column), never to another project. The run is the full statement of every
statement it read (`outcomes.importers.focus.statements`): one `outcomes.cost.statement`
event per project, sent in acknowledged batches. A statement with a row in the future is
withheld whole (it could not be complete). `--dry-run` sends nothing and prints the same
summary.
"""

from __future__ import annotations

import contextlib
import csv
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import IO, Any, Final, TypeVar

import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from outcomes.importers.focus.files import FocusFileError, columnar, rows, size_of
from outcomes.importers.focus.layouts import Layout, export_files
from outcomes.importers.focus.manifest import (
    ensure_topic,
    manifest_topic,
    read_manifest,
    write_manifest,
)
from outcomes.importers.focus.mapping import (
    NEEDED,
    UTC_ASSUMED,
    Charge,
    Skip,
    Skipped,
    TagMap,
    to_charge,
)
from outcomes.importers.focus.statements import Statements, Tally, statement_events
from outcomes.sdk.delivery import KafkaSender
from schemas.binding import to_binary

BATCH: Final = 1000
REJECTED: Final = (Skip.NO_TAG, Skip.CURRENCY, Skip.INVALID, Skip.FUTURE)
"""Reasons whose rows are written to the rejects file (zero-cost rows are not)."""
FUTURE_AFTER: Final = timedelta(days=1)
"""A charge day later than tomorrow (UTC) is in the future: no bill has it yet."""
READERS: Final = 2
"""Threads working out batches' columns (pyarrow's kernels let them run beside the one
judging rows): each file is read this many batches ahead."""
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class StatementSent:
    statement: str
    version: str
    projects: int
    """Projects with cost in it."""
    emptied: tuple[str, ...]
    """Projects an earlier import mentioned and this one does not: their cost in it is 0."""
    cost: Decimal


@dataclass
class ImportResult:
    read: int = 0
    sent: int = 0
    """Statement events acknowledged (or, dry run, to send)."""
    unsent: int = 0
    same_files: list[tuple[Path, Path]] = field(default_factory=list)
    """(path, the path it is the same file as): read once."""
    skipped: Counter[str] = field(default_factory=Counter)
    projects: dict[str, list[Any]] = field(default_factory=dict)
    """project -> [rows, exact cost] of the rows counted."""
    notes: Counter[str] = field(default_factory=Counter)
    """What was assumed, by kind (timestamps without a zone taken as UTC)."""
    statements: list[StatementSent] = field(default_factory=list)
    withheld: dict[str, Counter[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    project_tag: str
    cost_column: str
    currency: str
    dry_run: bool
    tag_map: TagMap = field(default_factory=TagMap)


class _Rejects:
    """The rejects CSV: each rejected row's columns, plus file, reason and detail."""

    def __init__(self, handle: IO[str] | None) -> None:
        self._handle = handle
        self._writer: csv.DictWriter[str] | None = None

    def write(self, path: Path, number: int, row: dict[str, Any], reason: str, detail: str) -> None:
        if self._handle is None:
            return
        if self._writer is None:
            names = ["file", "row", "reason", "detail", *(n for n in row if n in NEEDED)]
            self._writer = csv.DictWriter(self._handle, names, extrasaction="ignore", restval="")
            self._writer.writeheader()
        self._writer.writerow(
            {**row, "file": str(path), "row": number, "reason": reason, "detail": detail}
        )


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
    statements = _read(paths, options, result, console, _Rejects(rejects))
    result.withheld = statements.withheld
    _send(statements, options, result, bootstrap_servers=bootstrap_servers, topic=topic)
    return result


def _read(
    paths: list[Path], options: Options, result: ImportResult, console: Console, writer: _Rejects
) -> Statements:
    statements = Statements()
    counted: Counter[str] = Counter()
    charge_of = partial(
        to_charge, project_tag=options.project_tag, cost_column=options.cost_column,
        currency=options.currency, tag_map=options.tag_map, notes=result.notes,
    )  # fmt: skip
    latest = datetime.now(UTC).date() + FUTURE_AFTER
    tally = Tally(statements.sums, counted, latest)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        for path in _once(paths, result.same_files):
            size = max(1, size_of(path))
            task = progress.add_task(f"importing {path.name}", total=size)

            def advance(done: int, task: TaskID = task) -> None:
                progress.advance(task, done)

            found_in = _charges(path, options, result.notes, charge_of, advance, tally=tally)
            for found, row_of, number in found_in:
                result.read += 1
                charge = found
                if isinstance(charge, Charge) and charge.day > latest:
                    statements.withhold(charge.statement, Skip.FUTURE.value)
                    charge = Skipped(Skip.FUTURE, f"charge day {charge.day} is in the future")
                if isinstance(charge, Skipped):
                    result.skipped[charge.reason.value] += 1
                    if charge.reason in REJECTED:
                        writer.write(path, number, row_of(), charge.reason.value, charge.detail)
                    continue
                statements.add(charge)
                counted[charge.project] += 1
            progress.update(task, completed=size)
    result.read += tally.read
    if tally.zero:
        result.skipped[Skip.ZERO.value] += tally.zero
    result.projects = {p: [n, statements.exact(p)] for p, n in sorted(counted.items())}
    return statements


def _once(paths: list[Path], same: list[tuple[Path, Path]]) -> Iterator[Path]:
    """Each file once: a file named twice, or reached through a link or two folders, is
    read the first time (and `same` says so)."""
    first: dict[tuple[int, int], Path] = {}
    for path in paths:
        try:
            status = path.stat()
        except OSError:
            yield path  # reading it says what is wrong
            continue
        key = (status.st_dev, status.st_ino)
        if key in first:
            same.append((path, first[key]))
            continue
        first[key] = path
        yield path


def _charges(
    path: Path,
    options: Options,
    notes: Counter[str],
    charge_of: Callable[[dict[str, Any]], Charge | Skipped],
    advance: Callable[[int], None],
    *,
    tally: Tally,
) -> Iterator[tuple[Charge | Skipped, Callable[[], dict[str, Any]], int]]:
    """Each row's charge (or why not) and the row: CSV in column batches where pyarrow is
    installed, else (and Parquet) row by row."""
    found = columnar(path, advance)
    if found is None:
        for number, row in enumerate(rows(path, advance), 1):
            yield charge_of(row), partial(_same, row), number
        return
    from outcomes.importers.focus.columns import Reading, charges, read  # noqa: PLC0415

    reading = Reading(
        options.project_tag, options.cost_column, options.currency, options.tag_map, notes,
        charge_of,
    )  # fmt: skip
    first = 1
    for columns in _ahead(found, lambda batch: read(batch, reading)):
        for charge, row_of, index in charges(columns, tally, reading):
            yield charge, row_of, first + index
        first += columns.batch.num_rows


def _ahead(items: Iterable[T], work: Callable[[T], R]) -> Iterator[R]:
    """`work` of each item, in order: the items taken in a thread of their own (a file's
    batches: pyarrow decodes them without holding the interpreter) and worked by READERS
    threads, up to READERS items ahead of the one asked for — what memory holds is a few
    batches. An error taking the items (a truncated file) is raised here, in order."""
    stop = threading.Event()
    ready: queue.Queue[Future[R] | BaseException | None] = queue.Queue(READERS)

    def put(entry: Future[R] | BaseException | None) -> bool:
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                ready.put(entry, timeout=0.1)
                return True
        return False

    def take(pool: ThreadPoolExecutor) -> None:
        try:
            for item in items:
                if not put(pool.submit(work, item)):
                    return
        except BaseException as error:  # noqa: BLE001 - raised again by the reader
            put(error)
            return
        put(None)

    with ThreadPoolExecutor(READERS, thread_name_prefix="focus") as pool:
        taker = threading.Thread(target=take, args=(pool,), name="focus-files", daemon=True)
        taker.start()
        try:
            while (entry := ready.get()) is not None:
                if isinstance(entry, BaseException):
                    raise entry
                yield entry.result()
        finally:
            stop.set()
            taker.join()


def _same(row: dict[str, Any]) -> dict[str, Any]:
    return row


def _send(
    statements: Statements,
    options: Options,
    result: ImportResult,
    *,
    bootstrap_servers: str,
    topic: str,
) -> None:
    """Each complete statement: its manifest record, then its events (acknowledged)."""
    issued = datetime.now(UTC)
    sender = None
    known: dict[str, set[str]] = {}
    manifest = manifest_topic(topic)
    if not options.dry_run and statements.complete():
        ensure_topic(bootstrap_servers, manifest)
        known = read_manifest(bootstrap_servers, manifest)
        sender = KafkaSender(bootstrap_servers, max_block_ms=10_000)
    try:
        for name in statements.complete():
            earlier = known.get(name, set())
            events = statement_events(
                statements, name, issued=issued, known=earlier, currency=options.currency
            )
            mentioned = set(statements.sums[name])
            version = statements.version(name)
            result.statements.append(
                StatementSent(
                    name,
                    version,
                    len(mentioned),
                    tuple(sorted(earlier - mentioned)),
                    sum((statements.total(name, p) for p in mentioned), Decimal(0)),
                )
            )
            if sender is None:
                result.sent += len(events)
                continue
            try:
                write_manifest(sender, manifest, name, earlier | mentioned, version)
                records = [to_binary(event) for event in events]
                for start in range(0, len(records), BATCH):
                    sender.send_batch(topic, records[start : start + BATCH])
                result.sent += len(events)
            except Exception:  # noqa: BLE001 - counted and reported
                result.unsent += len(events)
    finally:
        if sender is not None:
            sender.close()


def summary(result: ImportResult, options: Options, console: Console) -> int:
    """Print what happened; exit 1 if a row was invalid, a statement withheld or a batch
    not acknowledged."""
    verb = "to send (dry run, nothing sent)" if options.dry_run else "sent"
    table = Table(title=f"FOCUS import — {options.cost_column}, currency {options.currency}")
    table.add_column("project")
    table.add_column("rows", justify="right")
    table.add_column(f"cost {options.currency}", justify="right")
    for project, (count, amount) in sorted(result.projects.items()):
        table.add_row(project, f"{count:,}", _money(amount))
    console.print(table)
    console.print(_statements_table(result, options))
    lines = [
        f"{result.read:,} rows read into {len(result.statements):,} statements,"
        f" {result.sent:,} statement events {verb}"
    ]
    for path, first in result.same_files:
        lines.append(f"{path} is the same file as {first}: read once")
    for reason, count in sorted(result.skipped.items()):
        lines.append(f"{count:,} rows skipped: {reason}")
    for name, reasons in sorted(result.withheld.items()):
        said = ", ".join(f"{n:,} rows {reason}" for reason, n in sorted(reasons.items()))
        lines.append(f"statement {name} withheld (it would not be complete): {said}")
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
    if options.dry_run:
        lines.append("dry run: projects that earlier imports sent and these files no longer"
                     " mention are found when sending")  # fmt: skip
    if result.unsent:
        lines.append(f"{result.unsent:,} statement events not acknowledged by the broker")
    for line in lines:
        console.print(line)
    failed = result.unsent or result.withheld or result.skipped.get(Skip.INVALID)
    return 1 if failed else 0


def _statements_table(result: ImportResult, options: Options) -> Table:
    table = Table(title="Statements (each replaces what earlier imports said for it)")
    table.add_column("statement")
    table.add_column("version")
    table.add_column("projects", justify="right")
    table.add_column(f"cost {options.currency}", justify="right")
    table.add_column("no longer mentioned (cost now 0)")
    for sent in result.statements:
        table.add_row(
            sent.statement,
            sent.version[:12],
            f"{sent.projects:,}",
            _money(sent.cost),
            ", ".join(sent.emptied) or "—",
        )
    return table


def _money(amount: Decimal) -> str:
    """Exact: as many decimals as the amount has (at least 2)."""
    exponent = amount.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{amount:,.{places}f}"


def expand_paths(paths: list[Path]) -> Layout:
    """Files as given; a directory stands for the export below it — the parts its
    manifests list (AWS, Azure), else every export file (`*.csv`, `*.csv.gz`, `*.parquet`)
    in name order: a bucket's export folder synced locally (`layouts`)."""
    found = Layout()
    for path in paths:
        if path.is_dir():
            layout = export_files(path)
            found.files += layout.files
            found.notes += layout.notes
        elif path.is_file():
            found.files.append(path)
        else:
            raise FocusFileError(f"{path}: no such file or directory")
    if not found.files:
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
