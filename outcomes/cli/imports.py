"""`outcomes import focus FILE…`: cloud costs from FinOps FOCUS exports."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from outcomes.cli.settings import add_config_flag, add_kafka_flags

if TYPE_CHECKING:
    from rich.console import Console

    from outcomes.importers.focus.ahead import Started


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verbs = commands.add_parser("import", help="import costs from cloud bills").add_subparsers(
        dest="source", required=True, metavar="SOURCE"
    )
    focus = verbs.add_parser(
        "focus",
        help="cloud cost from FinOps FOCUS exports (CSV, gzip CSV, Parquet)",
        description="One run is the full statement of every billing period (provider,"
        " billing account, period start) in the files: each project's cost per charge day and"
        " category, summed exactly, replaces what earlier imports said for that statement —"
        " changed amounts restated, vanished rows no longer counted, the same files again"
        " change nothing. Credits and corrections are negative. Rows without the tag, in"
        " another currency or invalid are counted and written to --rejects, never sent to"
        " another project.",
    )
    focus.add_argument(
        "files", nargs="+", type=Path, metavar="PATH", help="export files, or directories of them"
    )
    focus.add_argument(
        "--project-tag", required=True, help="the key in FOCUS `Tags` naming the project"
    )
    focus.add_argument(
        "--tag-map", type=Path,
        help="YAML mapping of tag values (globs) to project names, first match wins; other"
        " values are lowercased with CamelCase boundaries and spaces as '-'",
    )  # fmt: skip
    focus.add_argument(
        "--cost-column",
        choices=("EffectiveCost", "BilledCost"),
        default="EffectiveCost",
        help="amortized (EffectiveCost, default) or invoiced (BilledCost); never both",
    )
    focus.add_argument("--rejects", type=Path, help="write skipped rows here (CSV with reason)")
    focus.add_argument("--dry-run", action="store_true", help="print the summary, send nothing")
    # each import is the full statement of its billing periods, restating any of them: the
    # time rules of events (--backfill, --targets, --grace) do not apply; accepted unused so
    # that jobs written for earlier versions keep running
    focus.add_argument("--backfill", action="store_true", help=argparse.SUPPRESS)
    add_config_flag(focus)
    add_kafka_flags(focus)
    focus.add_argument("--currency", help="the reporting currency (default: the config's)")
    focus.add_argument("--targets", type=Path, help=argparse.SUPPRESS)
    focus.add_argument("--grace", help=argparse.SUPPRESS)


def main(args: argparse.Namespace) -> int:
    from outcomes.importers.focus.ahead import start_reading
    from outcomes.importers.focus.files import FocusFileError
    from outcomes.importers.focus.layouts import expand_paths

    gc.disable()  # loading allocates much and frees nothing: collected once loaded (_run)
    try:
        layout = expand_paths(args.files)
        # the first file is decoded while the rest of the program (the terminal, settings,
        # kafka-python, the event models) loads: much of an import's time is its start
        started = start_reading(layout.files[0], args.project_tag, args.cost_column)
    except (FocusFileError, OSError) as error:
        return _failed(error)
    with started:
        from rich.console import Console

        console = Console(stderr=True)
        for note in layout.notes:
            console.print(f"note: {note}")
        return _run(args, layout.files, started, console)


def _run(args: argparse.Namespace, files: list[Path], started: Started, console: Console) -> int:
    from collector.config import ConfigError
    from outcomes.cli.settings import settings_from
    from outcomes.importers.focus.files import FocusFileError
    from outcomes.importers.focus.manifest import ManifestError
    from outcomes.importers.focus.reading import Options, load_tag_map
    from outcomes.importers.focus.run import import_focus, summary

    gc.freeze()  # what loading made lives to the end: never walked again
    gc.enable()
    try:
        tag_map = load_tag_map(args.tag_map)
        settings = settings_from(
            args,
            {"bootstrap_servers": args.bootstrap_servers, "topic": args.topic,
             "currency": args.currency},
        )  # fmt: skip
        options = Options(
            project_tag=args.project_tag,
            cost_column=args.cost_column,
            currency=settings.currency,
            dry_run=args.dry_run,
            tag_map=tag_map,
        )
        rejects = args.rejects.open("w", newline="") if args.rejects else None
        try:
            result = import_focus(
                files,
                options,
                bootstrap_servers=settings.bootstrap_servers,
                topic=settings.topic,
                console=console,
                rejects=rejects,
                started=started,
            )
        finally:
            if rejects is not None:
                rejects.close()
    except (ConfigError, FocusFileError, ManifestError, OSError) as error:
        return _failed(error)
    return summary(result, options, console)


def _failed(error: Exception) -> int:
    print(f"outcomes import focus: {error}", file=sys.stderr)
    return 2
