"""`outcomes report`: period results per project from the state store."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from collector.config import ConfigError
from outcomes.cli.settings import add_config_flag, settings_from

if TYPE_CHECKING:
    from outcomes.report import Report


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report",
        help="period results per project from the state store",
        description="Realized values vs objectives per project, each judged on its own period"
        " kind (restated values included), with the portfolio's share meeting objectives."
        " Reads the same config as the collector (--config or OUTCOMES_CONFIG, then"
        " OUTCOMES_* variables). Safe while a collector runs.",
    )
    add_config_flag(report)
    report.add_argument("--state", help="SQLite path or postgresql:// DSN of the collector's state")
    report.add_argument("--targets", type=Path, help="directory of project declarations")
    report.add_argument(
        "--period",
        help="2026-10 (a month), 2026-Q3 (a quarter) or last:6 (a trend); default: the current"
        " period of each project",
    )
    report.add_argument(
        "--format", choices=("table", "json", "csv", "markdown", "html"), default="table"
    )
    report.add_argument("--output", type=Path, help="write to this file instead of stdout")
    report.add_argument(
        "--wide", action="store_true",
        help="table: every column whatever the terminal's width (default: from 150 columns)",
    )  # fmt: skip
    report.add_argument(
        "--at",
        help="evaluate as of this RFC 3339 time (default: now); the same --at gives the same"
        " numbers in every format",
    )


def main(args: argparse.Namespace) -> int:
    from collector.runtime import utc_now
    from outcomes.report import ReportError, build_report
    from outcomes.report.words import declarations_warning

    try:
        clock = utc_now
        if args.at is not None:
            moment = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError(f"--at {args.at!r}: give a timezone (Z or +hh:mm)")
            clock = lambda: moment  # noqa: E731
        settings = settings_from(args, {"state": args.state, "targets": args.targets})
        report = build_report(settings, args.period, clock)
    except (ConfigError, ReportError, ValueError) as error:
        print(f"outcomes report: {error}", file=sys.stderr)
        return 2
    warning = declarations_warning(report)
    if warning:
        print(f"outcomes report: {warning}", file=sys.stderr)
    _write(report, args.format, args.output, args.wide)
    return 0


def _write(report: Report, kind: str, output: Path | None, wide: bool = False) -> None:
    from outcomes.report.data import render_csv, render_json
    from outcomes.report.html import render_html
    from outcomes.report.markdown import render_markdown
    from outcomes.report.text import WIDE_TABLE, render_table

    if kind == "table":
        from rich.console import Console

        if output is None:
            console = Console()
            if wide:  # lines may wrap in the terminal; no column is cut
                console = Console(width=max(console.width, WIDE_TABLE))
            render_table(report, console, wide=True if wide else None)
            return
        with output.open("w") as handle:
            render_table(report, Console(file=handle, width=160))
        return
    renderers = {
        "json": render_json, "csv": render_csv, "markdown": render_markdown, "html": render_html,
    }  # fmt: skip
    text = renderers[kind](report)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
