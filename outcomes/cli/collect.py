"""`outcomes collect`: run a collector until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from collector.config import ConfigError, Settings
from collector.runtime import setup_logging, tune_garbage_collector
from outcomes.cli.settings import add_config_flag, settings_from

log = logging.getLogger("outcomes")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    collect = commands.add_parser(
        "collect",
        help="run a collector",
        description="Consume outcome events from Kafka and serve /metrics, /healthz, /readyz."
        " Each flag is also an OUTCOMES_<NAME> environment variable and a config file key.",
    )
    add_config_flag(collect)
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
    return settings_from(args, flags)


def main(args: argparse.Namespace) -> int:
    try:
        settings = collect_settings(args)
    except ConfigError as error:
        print(f"outcomes collect: {error}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    return run_collect(settings)


def run_collect(settings: Settings) -> int:
    from collector.app import CollectorApp
    from collector.state.open import check_store
    from collector.state.store import UnusableStoreError
    from exporters.prometheus import WebConfigError

    try:
        check_store(settings.state)
        app = CollectorApp(settings)
    except (WebConfigError, UnusableStoreError) as error:
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
