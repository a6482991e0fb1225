"""`outcomes import focus FILE…`: cloud costs from FinOps FOCUS exports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from collector.config import ConfigError
from outcomes.cli.settings import add_config_flag, add_kafka_flags, settings_from


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
    from rich.console import Console

    from outcomes.importers.focus.files import FocusFileError
    from outcomes.importers.focus.manifest import ManifestError
    from outcomes.importers.focus.run import (
        Options,
        expand_paths,
        import_focus,
        load_tag_map,
        summary,
    )

    console = Console(stderr=True)
    try:
        settings = settings_from(
            args,
            {"bootstrap_servers": args.bootstrap_servers, "topic": args.topic,
             "currency": args.currency},
        )  # fmt: skip
        layout = expand_paths(args.files)
        for note in layout.notes:
            console.print(f"note: {note}")
        files = layout.files
        options = Options(
            project_tag=args.project_tag,
            cost_column=args.cost_column,
            currency=settings.currency,
            dry_run=args.dry_run,
            tag_map=load_tag_map(args.tag_map),
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
            )
        finally:
            if rejects is not None:
                rejects.close()
    except (ConfigError, FocusFileError, ManifestError, OSError) as error:
        print(f"outcomes import focus: {error}", file=sys.stderr)
        return 2
    return summary(result, options, console)
