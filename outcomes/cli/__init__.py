"""The `outcomes` console script (DESIGN §8, binding verbs and flags)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import typing
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Literal

from collector.config import ConfigError, Settings, load_settings
from collector.runtime import setup_logging, tune_garbage_collector

log = logging.getLogger("outcomes")


def _add_collect(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    collect = commands.add_parser(
        "collect",
        help="run a collector",
        description="Consume outcome events from Kafka and serve /metrics, /healthz, /readyz."
        " Each flag is also an OUTCOMES_<NAME> environment variable and a config file key.",
    )
    collect.add_argument("--config", type=Path, help="YAML config file")
    collect.add_argument("--bootstrap-servers", help="Kafka brokers, host:port[,host:port]")
    collect.add_argument("--topic", help="events topic (default outcomes.events)")
    collect.add_argument("--group-id", help="consumer group (default outcomes-collector)")
    collect.add_argument("--targets", type=Path, help="directory of project declarations")
    collect.add_argument("--state", help="SQLite path or postgresql:// DSN")
    collect.add_argument("--listen", help="HOST:PORT for /metrics (default 0.0.0.0:9470)")
    collect.add_argument(
        "--embedded-broker",
        action="store_true",
        default=None,
        help="start a local Kafka-compatible broker (memory only) instead of connecting",
    )
    collect.add_argument("--web-config", type=Path, help="TLS/auth for /metrics (web-config file)")
    collect.add_argument(
        "--workers",
        help="worker processes, each a full pipeline and group member (default auto: the"
        " CPUs this process may use; 1: one pipeline; more than the topic's partitions stand"
        " idle)",
    )
    collect.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")


def _add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="the whole loop on one machine, with a live view",
        description="Embedded broker, collector, sample projects and simulated producers.",
    )
    demo.add_argument("--listen", default="127.0.0.1:9470", help="HOST:PORT for /metrics")
    demo.add_argument("--rate", type=float, default=5.0, help="live simulated events per second")
    demo.add_argument("--duration-s", type=float, help="stop after this long (default: Ctrl-C)")
    demo.add_argument("--state", help="SQLite path (default: a temporary file)")


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
        ("project", str), ("amount", float), ("category", str), ("basis", str), ("currency", str),
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
    default = EMIT_DEFAULTS.get(kind, {}).get(name)
    if default is not None:
        parts.append(f"default {default:g}")
    elif field.is_required():
        parts.append("required")
    metavar = "{" + ",".join(choices) + "}" if choices else None
    return metavar, "; ".join(part for part in parts if part)


def _emit_common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--bootstrap-servers", help="Kafka brokers (or OUTCOMES_BOOTSTRAP_SERVERS)")
    common.add_argument("--topic", help="events topic (default outcomes.events)")
    common.add_argument("--source", help="CloudEvents source (default outcomes-cli/<host>)")
    common.add_argument("--dry-run", action="store_true", help="print the CloudEvent, send nothing")
    return common


def _add_emit(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    emit.add_argument(
        "--grace-days",
        type=float,
        default=7.0,
        help="with --file: the collectors' grace window; lines of periods closed longer ago"
        " are refused unless --backfill (default 7)",
    )
    kinds = emit.add_subparsers(dest="kind", metavar="KIND")
    for kind, fields in EMIT_FIELDS.items():
        parser = kinds.add_parser(kind, parents=[common], help=f"one {kind} event")
        for name, kind_type in fields:
            metavar, text = flag_help(kind, name)
            parser.add_argument(
                "--" + name.replace("_", "-"), type=kind_type, dest=name, metavar=metavar, help=text
            )
        if kind == "run":
            parser.add_argument("--link", action="append", dest="links", help="URL (repeatable)")
        parser.add_argument("--id", help="event id (default: a new UUID)")
        parser.add_argument(
            "--time", help=EMIT_TIME_HELP.get(kind, "RFC 3339 event time (default: now)")
        )


def _add_gateway(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gateway = commands.add_parser(
        "gateway",
        help="HTTP ingest (CloudEvents HTTP binding) into Kafka",
        description="POST /v1/events with a bearer token; 202 once the broker acknowledged.",
    )
    gateway.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    gateway.add_argument("--topic", default="outcomes.events")
    gateway.add_argument("--listen", default="0.0.0.0:8080", help="HOST:PORT")
    gateway.add_argument("--tokens", type=Path, required=True, help="tokens YAML file")
    gateway.add_argument("--currency", default="USD", help="reporting currency")
    gateway.add_argument("--max-body-bytes", type=int, default=1_048_576)
    gateway.add_argument(
        "--targets",
        type=Path,
        help="declarations directory: its Integration documents serve POST /v1/hooks/NAME",
    )
    gateway.add_argument(
        "--rate-limit", type=float, help="requests/s per token (a token's rate_per_s wins)"
    )
    gateway.add_argument(
        "--grace-days",
        type=float,
        default=7.0,
        help="the collectors' grace window: events of periods closed longer ago are refused"
        " too_late at once (default 7)",
    )


def _add_targets(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    targets = commands.add_parser("targets", help="work with project declarations")
    verbs = targets.add_subparsers(dest="verb", required=True, metavar="VERB")
    check = verbs.add_parser(
        "check",
        help="validate declarations",
        description="Validate declaration files, or every *.yaml/*.yml below a directory;"
        " exit 1 with file:line messages.",
    )
    check.add_argument("paths", type=Path, nargs="+", metavar="PATH")


def _add_report(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report",
        help="period results per project from the state store",
        description="Realized values vs objectives per project, each judged on its own period"
        " kind (restated values included), with the portfolio's share meeting objectives."
        " Reads the same config as the collector (--config or OUTCOMES_CONFIG, then"
        " OUTCOMES_* variables). Safe while a collector runs.",
    )
    report.add_argument(
        "--config", type=Path, help="the collector's YAML config file (or OUTCOMES_CONFIG)"
    )
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
        "--at",
        help="evaluate as of this RFC 3339 time (default: now); the same --at gives the same"
        " numbers in every format",
    )


def _add_import(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    focus.add_argument("--config", type=Path, help="the collector's config (or OUTCOMES_CONFIG)")
    focus.add_argument("--bootstrap-servers", help="Kafka brokers (or OUTCOMES_BOOTSTRAP_SERVERS)")
    focus.add_argument("--topic", help="events topic (default outcomes.events)")
    focus.add_argument("--currency", help="the reporting currency (default: the config's)")
    focus.add_argument("--targets", type=Path, help="declarations (period kinds judge too_late)")
    focus.add_argument("--grace-days", type=float, default=7.0, help="the collectors' grace window")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outcomes",
        description="Outcome telemetry: is your automation paying off?",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_collect(commands)
    _add_emit(commands)
    _add_gateway(commands)
    _add_targets(commands)
    _add_report(commands)
    _add_import(commands)
    _add_demo(commands)
    from outcomes import dlq

    dlq.add_parser(commands)
    return parser


def collect_settings(args: argparse.Namespace) -> Settings:
    flags = {
        "bootstrap_servers": args.bootstrap_servers,
        "topic": args.topic,
        "group_id": args.group_id,
        "targets": args.targets,
        "state": args.state,
        "listen": args.listen,
        "embedded_broker": args.embedded_broker,
        "web_config": args.web_config,
        "workers": args.workers,
        "log_level": args.log_level,
    }
    return load_settings(flags, args.config)


def run_collect(settings: Settings) -> int:
    from collector.app import CollectorApp
    from exporters.prometheus import WebConfigError

    try:
        app = CollectorApp(settings)
    except WebConfigError as error:
        print(f"outcomes collect: {error}", file=sys.stderr)
        return 2
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    tune_garbage_collector()
    app.start()
    print(f"outcomes collector: metrics at {app.metrics_url}", flush=True)
    while not stopping.is_set() and not app.wait(0.5):
        pass
    app.stop()
    return 1 if app.failure is not None else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {
        "collect": _main_collect,
        "emit": run_emit,
        "gateway": run_gateway,
        "targets": lambda a: run_targets_check(a.paths),
        "report": run_report,
        "import": run_import,
        "dlq": _main_dlq,
        "demo": _main_demo,
    }
    return commands[args.command](args)


def _main_collect(args: argparse.Namespace) -> int:
    try:
        settings = collect_settings(args)
    except ConfigError as error:
        print(f"outcomes collect: {error}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    return run_collect(settings)


def _main_dlq(args: argparse.Namespace) -> int:
    from outcomes import dlq

    return dlq.main(args)


def _main_demo(args: argparse.Namespace) -> int:
    setup_logging("WARNING")
    from outcomes.demo.run import run_demo

    return run_demo(args.listen, args.rate, args.duration_s, args.state)


def run_emit(args: argparse.Namespace) -> int:
    import os

    from rich.console import Console

    from outcomes.importers import events_file as emit

    servers = args.bootstrap_servers or os.environ.get(
        "OUTCOMES_BOOTSTRAP_SERVERS", "127.0.0.1:9092"
    )
    topic = args.topic or os.environ.get("OUTCOMES_TOPIC", "outcomes.events")
    console = Console(stderr=True)
    try:
        if args.file is not None:
            if args.kind is not None:
                raise emit.EmitError("use either --file or an event kind, not both")
            targets = args.targets or os.environ.get("OUTCOMES_TARGETS")
            result = emit.bulk_import(
                args.file,
                servers,
                topic,
                console,
                args.dry_run,
                judge=emit.time_judge(
                    None if targets is None else Path(targets), timedelta(days=args.grace_days)
                ),
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
        if args.dry_run:
            print(emit.dry_run_text(event))
            return 0
        emit.send_one(event, servers, topic)
    except (emit.EmitError, OSError) as error:
        print(f"outcomes emit: {error}", file=sys.stderr)
        return 2
    print(f"sent {event.type.value} {event.id} for {event.project}")
    return 0


def run_gateway(args: argparse.Namespace) -> int:
    from outcomes.gateway.app import GatewaySettings
    from outcomes.gateway.server import build_server
    from outcomes.gateway.tokens import TokenError

    setup_logging("INFO")
    host, _, port = args.listen.rpartition(":")
    settings = GatewaySettings(
        args.topic, args.currency, args.max_body_bytes, args.rate_limit, args.targets,
        timedelta(days=args.grace_days),
    )  # fmt: skip
    try:
        server = build_server(args.bootstrap_servers, args.tokens, host, int(port), settings)
    except (TokenError, ValueError) as error:
        print(f"outcomes gateway: {error}", file=sys.stderr)
        return 2
    print(f"outcomes gateway: POST http://{args.listen}/v1/events", flush=True)
    if args.targets is not None:
        print(f"outcomes gateway: POST http://{args.listen}/v1/hooks/INTEGRATION", flush=True)
    server.run()
    return 0


def run_targets_check(paths: list[Path]) -> int:
    from collector.declarations.loader import load_file
    from collector.declarations.registry import DeclarationRegistry
    from collector.integrations.declaration import IntegrationDeclaration

    logging.disable(logging.ERROR)
    projects = integrations = files = invalid = 0
    for path in paths:
        if path.is_dir():
            registry = DeclarationRegistry(path)
            result = registry.reload()
            errors = list(result.errors)
            states = registry.file_states()
            files += len(states)
            invalid += sum(1 for _, ok in states if not ok)
            projects += len(list(result.catalog.declared_projects()))
            integrations += len(result.catalog.integrations)
        elif path.is_file():
            found, errors = load_file(path)
            files += 1
            invalid += bool(errors)
            kinds = [isinstance(item.declaration, IntegrationDeclaration) for item in found]
            integrations += sum(kinds)
            projects += len(kinds) - sum(kinds)
        else:
            print(f"outcomes targets check: {path}: no such file or directory", file=sys.stderr)
            return 2
        for error in errors:
            print(error, file=sys.stderr)
    if invalid:
        print(f"{invalid} of {files} files invalid", file=sys.stderr)
        return 1
    print(f"ok: {projects} projects, {integrations} integrations in {files} files")
    return 0


def config_file(given: Path | None) -> Path | None:
    """The collector's config for the commands that share it: `--config`, else
    `OUTCOMES_CONFIG`."""
    import os

    found = given or os.environ.get("OUTCOMES_CONFIG")
    return None if found is None else Path(found)


def run_import(args: argparse.Namespace) -> int:

    from rich.console import Console

    from outcomes.importers.events_file import EmitError, time_judge
    from outcomes.importers.focus.files import FocusFileError
    from outcomes.importers.focus.run import Options, expand_paths, import_focus, summary

    config = config_file(args.config)
    console = Console(stderr=True)
    try:
        settings = load_settings(
            {"bootstrap_servers": args.bootstrap_servers, "topic": args.topic,
             "currency": args.currency, "targets": args.targets},
            config,
        )  # fmt: skip
        files = expand_paths(args.files)
        options = Options(
            project_tag=args.project_tag,
            cost_column=args.cost_column,
            currency=settings.currency,
            backfill=args.backfill,
            dry_run=args.dry_run,
            judge=time_judge(settings.targets, timedelta(days=args.grace_days)),
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


def run_report(args: argparse.Namespace) -> int:

    from collector.app import utc_now
    from outcomes.report import ReportError, build_report
    from outcomes.report.html import render_html
    from outcomes.report.text import (
        declarations_warning,
        render_csv,
        render_json,
        render_markdown,
        render_table,
    )

    config = config_file(args.config)
    try:
        clock = utc_now
        if args.at is not None:
            moment = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError(f"--at {args.at!r}: give a timezone (Z or +hh:mm)")
            clock = lambda: moment  # noqa: E731
        settings = load_settings({"state": args.state, "targets": args.targets}, config)
        report = build_report(settings, args.period, clock)
    except (ConfigError, ReportError, ValueError) as error:
        print(f"outcomes report: {error}", file=sys.stderr)
        return 2
    warning = declarations_warning(report)
    if warning:
        print(f"outcomes report: {warning}", file=sys.stderr)
    if args.format == "table":
        from rich.console import Console

        if args.output is None:
            render_table(report, Console())
            return 0
        with args.output.open("w") as handle:
            render_table(report, Console(file=handle, width=160))
        return 0
    renderers = {
        "json": render_json, "csv": render_csv, "markdown": render_markdown, "html": render_html,
    }  # fmt: skip
    text = renderers[args.format](report)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
