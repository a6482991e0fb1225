"""`outcomes import focus FILE…`: cloud bills in, statements out, every row accounted for.

The files are read into statements (`reading`); the run is the full statement of every
statement it read (`outcomes.importers.focus.statements`): one `outcomes.cost.statement`
event per project, sent in acknowledged batches after the statement's manifest record. A
statement with a row in the future is withheld whole (it could not be complete).
`--dry-run` sends nothing and prints the same summary.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Final

from rich.console import Console
from rich.table import Table

from outcomes.importers.focus.ahead import Started
from outcomes.importers.focus.events import statement_events
from outcomes.importers.focus.manifest import (
    ensure_topic,
    manifest_topic,
    read_manifest,
    write_manifest,
)
from outcomes.importers.focus.mapping import UTC_ASSUMED, Skip
from outcomes.importers.focus.reading import (
    ImportResult,
    Options,
    Rejects,
    StatementSent,
    read_statements,
)
from outcomes.importers.focus.statements import Statements
from outcomes.sdk.delivery import KafkaSender
from schemas.binding import to_binary

BATCH: Final = 1000


def import_focus(
    paths: list[Path],
    options: Options,
    *,
    bootstrap_servers: str,
    topic: str,
    console: Console,
    rejects: IO[str] | None = None,
    started: Started | None = None,
) -> ImportResult:
    """Read `paths` (`started`: the first begun already) and send their statements."""
    result = ImportResult()
    statements = read_statements(
        paths, options, result, console, rejects=Rejects(rejects), started=started
    )
    result.withheld = statements.withheld
    _send(statements, options, result, bootstrap_servers=bootstrap_servers, topic=topic)
    return result


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
