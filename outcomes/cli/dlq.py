"""`outcomes dlq tail|replay`: read the dead-letter topic; replay its letters once."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from collector.config import ConfigError
from outcomes.cli.settings import add_config_flag, add_kafka_flags, settings_from


def since_arg(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from outcomes import dlq as letters

    dlq = commands.add_parser("dlq", help="read or replay the dead-letter topic")
    verbs = dlq.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, text in (("tail", "list dead letters"), ("replay", "replay dead letters once")):
        parser = verbs.add_parser(verb, help=text, description=letters.__doc__)
        add_kafka_flags(parser)
        add_config_flag(parser)
        parser.add_argument("--reason", help="only this reason (unmapped, too_late, invalid, …)")
        parser.add_argument("--since", type=since_arg, help="only letters written since (RFC 3339)")
        parser.add_argument(
            "--group", help="only letters a collector of this consumer group refused"
        )
        if verb == "tail":
            parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")
            parser.add_argument("--limit", type=int, default=100, help="the newest N (default 100)")
        else:
            parser.add_argument("--targets", type=Path, help="declarations (for webhook letters)")
            parser.add_argument("--dry-run", action="store_true", help="report, send nothing")


def main(args: argparse.Namespace) -> int:
    from outcomes import dlq as letters

    try:
        settings = settings_from(
            args,
            {"bootstrap_servers": args.bootstrap_servers, "topic": args.topic,
             "targets": getattr(args, "targets", None)},
        )  # fmt: skip
    except ConfigError as error:
        print(f"outcomes dlq: {error}", file=sys.stderr)
        return 2
    args.bootstrap_servers, args.topic = settings.bootstrap_servers, settings.topic
    if args.verb == "tail":
        return letters.tail(args)
    args.targets, args.currency = settings.targets, settings.currency
    return letters.replay(args)
