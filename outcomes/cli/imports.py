"""`outcomes import focus FILE…`: cloud costs from FinOps FOCUS exports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from collector.config import ConfigError
from outcomes.cli.settings import add_config_flag, add_grace_flag, add_kafka_flags, settings_from


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verbs = commands.add_parser("import", help="import costs from cloud bills").add_subparsers(
        dest="source", required=True, metavar="SOURCE"
    )
    focus = verbs.add_parser(
        "focus",
        help="cost events from FinOps FOCUS exports (CSV, gzip CSV, Parquet)",
        description="Each row of the exports becomes an outcomes.cost.incurred event for the"
        " project named by its tag; ids come from the row's identifying columns, so importing"
        " a file again (or overlapping exports) counts nothing twice; credits and corrections"
        " are negative. Rows without the tag, in another currency or invalid are counted and"
        " written to --rejects, never sent to another project.",
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
    focus.add_argument(
        "--backfill",
        action="store_true",
        help="rows of periods closed longer ago than the grace window are history: counted in"
        " their period (else they are refused too_late)",
    )
    add_config_flag(focus)
    add_kafka_flags(focus)
    focus.add_argument("--currency", help="the reporting currency (default: the config's)")
    focus.add_argument("--targets", type=Path, help="declarations (period kinds judge too_late)")
    add_grace_flag(focus)


def main(args: argparse.Namespace) -> int:
    from rich.console import Console

    from outcomes.importers.events_file import EmitError, time_judge
    from outcomes.importers.focus.files import FocusFileError
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
             "currency": args.currency, "targets": args.targets},
        )  # fmt: skip
        files = expand_paths(args.files)
        options = Options(
            project_tag=args.project_tag,
            cost_column=args.cost_column,
            currency=settings.currency,
            backfill=args.backfill,
            dry_run=args.dry_run,
            judge=time_judge(settings.targets, settings.grace),
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
    except (ConfigError, FocusFileError, EmitError, OSError) as error:
        print(f"outcomes import focus: {error}", file=sys.stderr)
        return 2
    return summary(result, options, console)
