"""`outcomes emit KIND …` (one event, exit 0 once the broker acknowledged it) and
`outcomes emit --file` (bulk import of JSONL / CSV)."""

from __future__ import annotations

import argparse
import sys
import typing
from pathlib import Path
from typing import Literal

from collector.config import ConfigError

EMIT_FIELDS: dict[str, list[tuple[str, type]]] = {
    "run": [
        ("project", str), ("automation", str), ("outcome", str), ("duration_s", float),
        ("manual_duration_s", float), ("human_effort_s", float), ("cost", float),
        ("currency", str),
    ],
    "cost": [
        ("project", str), ("amount", float), ("category", str), ("description", str),
        ("currency", str),
    ],
    "savings": [
        ("project", str), ("amount", float), ("category", str), ("basis", str),
        ("evidence", str), ("currency", str),
    ],
    "availability": [
        ("project", str), ("service", str), ("window_start", str), ("window_end", str),
        ("downtime_s", float),
    ],
    "incident-opened": [
        ("project", str), ("service", str), ("incident", str), ("title", str), ("severity", str),
    ],
    "incident-resolved": [
        ("project", str), ("service", str), ("incident", str), ("started_at", str),
        ("resolved_by", str), ("title", str), ("severity", str),
    ],
    "ai-usage": [
        ("project", str), ("automation", str), ("provider", str), ("model", str),
        ("operation", str), ("input_tokens", int), ("output_tokens", int),
        ("cache_read_tokens", int), ("cache_write_tokens", int), ("reasoning_tokens", int),
        ("cost", float), ("currency", str),
    ],
    "review": [
        ("project", str), ("automation", str), ("subject", str), ("verdict", str),
        ("human_effort_s", float), ("reviewer", str),
    ],
}  # fmt: skip
EMIT_HELP: dict[str, str] = {
    "incident": "the incident's key in your tool (pairs opened with resolved)",
    "started_at": "RFC 3339 start, when known (else the opened event gives it)",
    "resolved_by": "who ended it",
    "severity": "free text, e.g. critical",
}
"""Flag help beyond the name (the incident flags; the others are explained in --help)."""
EMIT_TIME_HELP: dict[str, str] = {
    "incident-opened": "RFC 3339 time the incident started (default: now)",
    "incident-resolved": "RFC 3339 time the incident ended (default: now)",
    "ai-usage": "RFC 3339 time the call ended (default: now)",
    "review": "RFC 3339 time the verdict was given (default: now)",
}


def flag_help(kind: str, name: str) -> tuple[str | None, str]:
    """(metavar, help) of an emit flag from the event's model: choices, units, required."""
    from outcomes.importers.events_file import EMIT_DEFAULTS, KINDS
    from schemas.events import DATA_MODELS

    field = DATA_MODELS[KINDS[kind]].model_fields[name]
    options = (
        (field.annotation,)
        if typing.get_origin(field.annotation) is Literal
        else typing.get_args(field.annotation)
    )
    choices = [
        value
        for option in options
        for value in (typing.get_args(option) if typing.get_origin(option) is Literal else ())
    ]
    parts = [EMIT_HELP.get(name) or (field.description or "").rstrip(".")]
    if name.endswith("_s"):
        parts.append("seconds")
    elif name in ("amount", "cost"):
        parts.append("in the reporting currency")
    elif name.endswith("_tokens"):
        parts.append("a whole number")
    default = EMIT_DEFAULTS.get(kind, {}).get(name)
    if default is not None:
        parts.append(f"default {default:g}")
    elif field.is_required():
        parts.append("required")
    metavar = "{" + ",".join(choices) + "}" if choices else None
    return metavar, "; ".join(part for part in parts if part)


def _emit_common() -> argparse.ArgumentParser:
    from outcomes.cli.settings import add_config_flag, add_kafka_flags

    common = argparse.ArgumentParser(add_help=False)
    add_kafka_flags(common)
    add_config_flag(common)
    common.add_argument("--source", help="CloudEvents source (default outcomes-cli/<host>)")
    common.add_argument("--dry-run", action="store_true", help="print the CloudEvent, send nothing")
    return common


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from outcomes.cli.settings import add_grace_flag

    common = _emit_common()
    emit = commands.add_parser(
        "emit",
        parents=[common],
        help="emit one event, or import many (--file)",
        description="Emit one outcome event (exit 0 once the broker acknowledged it), or"
        " import a JSONL / CSV file with --file.",
    )
    emit.add_argument("--file", type=Path, help="events.jsonl (structured CloudEvents) or .csv")
    emit.add_argument(
        "--backfill",
        action="store_true",
        help="with --file: import history; each event is counted in its period however long"
        " ago it closed (restated), and importing the file again counts nothing twice",
    )
    emit.add_argument(
        "--targets",
        type=Path,
        help="with --file: the collectors' declarations directory (or OUTCOMES_TARGETS), so"
        " each project's lines are judged by its declared period kind (default: by month)",
    )
    add_grace_flag(emit)
    from outcomes.importers.events_file import EMIT_DEFAULTS, KINDS
    from schemas.events import DATA_MODELS

    kinds = emit.add_subparsers(dest="kind", metavar="KIND")
    for kind, fields in EMIT_FIELDS.items():
        parser = kinds.add_parser(kind, parents=[common], help=f"one {kind} event")
        model = DATA_MODELS[KINDS[kind]]
        for name, kind_type in fields:
            metavar, text = flag_help(kind, name)
            required = model.model_fields[name].is_required() and name not in EMIT_DEFAULTS.get(
                kind, {}
            )
            parser.add_argument(
                "--" + name.replace("_", "-"), type=kind_type, dest=name, metavar=metavar,
                help=text, required=required,
            )  # fmt: skip
        if kind == "run":
            parser.add_argument("--link", action="append", dest="links", help="URL (repeatable)")
        parser.add_argument("--id", help="event id (default: a new UUID)")
        parser.add_argument(
            "--time", help=EMIT_TIME_HELP.get(kind, "RFC 3339 event time (default: now)")
        )


def main(args: argparse.Namespace) -> int:
    from rich.console import Console

    from outcomes.cli.settings import settings_from
    from outcomes.importers import events_file as emit

    console = Console(stderr=True)
    try:
        settings = settings_from(
            args,
            {"bootstrap_servers": args.bootstrap_servers, "topic": args.topic,
             "targets": getattr(args, "targets", None)},
        )  # fmt: skip
        servers, topic = settings.bootstrap_servers, settings.topic
        if args.file is not None:
            if args.kind is not None:
                raise emit.EmitError("use either --file or an event kind, not both")
            result = emit.bulk_import(
                args.file,
                servers,
                topic,
                console,
                args.dry_run,
                judge=emit.time_judge(settings.targets, settings.grace, settings.currency),
                backfill=args.backfill,
                source=args.source or emit.IMPORT_SOURCE,
            )
            return emit.report(result, console, args.dry_run)
        if args.backfill:
            raise emit.EmitError("--backfill applies to --file imports")
        if args.kind is None:
            raise emit.EmitError(f"name an event kind ({', '.join(EMIT_FIELDS)}) or --file")
        values = {name: getattr(args, name) for name, _ in EMIT_FIELDS[args.kind]}
        if args.kind == "run":
            values["links"] = args.links
        event = emit.event_from_flags(
            args.kind, values, args.source or emit.default_source(), args.id, args.time
        )
        emit.judge_one(event, emit.time_judge(settings.targets, settings.grace, settings.currency))
        if args.dry_run:
            print(emit.dry_run_text(event))
            return 0
        emit.send_one(event, servers, topic)
    except (emit.EmitError, ConfigError, OSError) as error:
        print(f"outcomes emit: {error}", file=sys.stderr)
        return 2
    print(f"sent {event.type.value} {event.id} for {event.project}")
    return 0
