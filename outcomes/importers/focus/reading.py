"""Reading an import's files into statements (`read_statements`), every row accounted for.

Each row is a charge of the project named by its tag in its statement (ProviderName,
BillingAccountId, BillingPeriodStart), or is counted under the reason it is not: no tag,
another currency, invalid, zero cost, or a charge day in the future. Rows without the tag,
in another currency or invalid go to the rejects file, never to another project.

Where pyarrow is installed a file is read in column batches (`columns`), worked out ahead
of the judging in threads of their own (`ahead`); the first file may have been started
before the import knew its settings. Nothing here talks to a broker.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import IO, Any, Final

import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from outcomes.importers.focus.ahead import Started, start_reading
from outcomes.importers.focus.files import FocusFileError, rows, size_of
from outcomes.importers.focus.mapping import (
    NEEDED,
    Charge,
    Skip,
    Skipped,
    TagMap,
    to_charge,
)
from outcomes.importers.focus.statements import Statements, Tally

REJECTED: Final = (Skip.NO_TAG, Skip.CURRENCY, Skip.INVALID, Skip.FUTURE)
"""Reasons whose rows are written to the rejects file (zero-cost rows are not)."""
FUTURE_AFTER: Final = timedelta(days=1)
"""A charge day later than tomorrow (UTC) is in the future: no bill has it yet."""


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


class Rejects:
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


def read_statements(
    paths: list[Path],
    options: Options,
    result: ImportResult,
    console: Console,
    *,
    rejects: Rejects,
    started: Started | None = None,
) -> Statements:
    """The statements of every file (each read once); counts and notes into `result`."""
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

            begun = started if _same_reading(started, path, options) else None
            with begun or start_reading(path, options.project_tag, options.cost_column) as file:
                file.advance.attach(advance)
                found_in = _charges(file, options, result.notes, charge_of, tally=tally)
                for found, row_of, number in found_in:
                    result.read += 1
                    charge = found
                    if isinstance(charge, Charge) and charge.day > latest:
                        statements.withhold(charge.statement, Skip.FUTURE.value)
                        charge = Skipped(Skip.FUTURE, f"charge day {charge.day} is in the future")
                    if isinstance(charge, Skipped):
                        result.skipped[charge.reason.value] += 1
                        if charge.reason in REJECTED:
                            rejects.write(
                                path, number, row_of(), charge.reason.value, charge.detail
                            )
                        continue
                    statements.add(charge)
                    counted[charge.project] += 1
            progress.update(task, completed=size)
    result.read += tally.read
    if tally.zero:
        result.skipped[Skip.ZERO.value] += tally.zero
    result.projects = {p: [n, statements.exact(p)] for p, n in sorted(counted.items())}
    return statements


def _same_reading(started: Started | None, path: Path, options: Options) -> bool:
    return started is not None and (started.path, started.project_tag, started.cost_column) == (
        path,
        options.project_tag,
        options.cost_column,
    )


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
    file: Started,
    options: Options,
    notes: Counter[str],
    charge_of: Callable[[dict[str, Any]], Charge | Skipped],
    *,
    tally: Tally,
) -> Iterator[tuple[Charge | Skipped, Callable[[], dict[str, Any]], int]]:
    """Each row's charge (or why not) and the row: in column batches where pyarrow is
    installed, else row by row."""
    if file.batches is None:
        for number, row in enumerate(rows(file.path, file.advance), 1):
            yield charge_of(row), partial(_same, row), number
        return
    from outcomes.importers.focus.columns import Reading, charges  # noqa: PLC0415

    reading = Reading(
        options.project_tag, options.cost_column, options.currency, options.tag_map, notes,
        charge_of,
    )  # fmt: skip
    first = 1
    for columns in file.batches:
        for charge, row_of, index in charges(columns, tally, reading):
            yield charge, row_of, first + index
        first += columns.batch.num_rows


def _same(row: dict[str, Any]) -> dict[str, Any]:
    return row


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
