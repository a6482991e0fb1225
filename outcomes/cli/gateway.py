"""`outcomes gateway`: HTTP ingest (CloudEvents HTTP binding, webhooks) into Kafka."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from collector.config import ConfigError
from collector.runtime import setup_logging
from outcomes.cli.settings import add_config_flag, add_grace_flag, add_kafka_flags, settings_from


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gateway = commands.add_parser(
        "gateway",
        help="HTTP ingest (CloudEvents HTTP binding) into Kafka",
        description="POST /v1/events with a bearer token; 202 once the broker acknowledged.",
    )
    add_kafka_flags(gateway)
    add_config_flag(gateway)
    gateway.add_argument("--listen", default="0.0.0.0:8080", help="HOST:PORT")
    gateway.add_argument(
        "--tokens", type=Path,
        help="tokens YAML file for POST /v1/events (without it only webhooks and OTLP, which"
        " authenticate with their integrations' secrets, are served)",
    )  # fmt: skip
    gateway.add_argument("--currency", help="reporting currency (default: the config's, USD)")
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
        "--ack-timeout-s", type=float, default=5.0,
        help="seconds a request waits for the broker's acknowledgement before 503 with"
        " Retry-After (default 5; senders such as GitHub give up after ~10)",
    )  # fmt: skip
    gateway.add_argument(
        "--drain-s", type=float, default=10.0,
        help="on SIGTERM: seconds the requests in flight get to finish (default 10)",
    )  # fmt: skip
    add_grace_flag(gateway)


def main(args: argparse.Namespace) -> int:
    from outcomes.gateway.app import GatewaySettings
    from outcomes.gateway.server import build_server
    from outcomes.gateway.tokens import TokenError

    setup_logging("INFO")
    host, _, port = args.listen.rpartition(":")
    try:
        settings = settings_from(
            args,
            {"bootstrap_servers": args.bootstrap_servers, "topic": args.topic,
             "currency": args.currency, "targets": args.targets},
        )  # fmt: skip
        gateway = GatewaySettings(
            topic=settings.topic, currency=settings.currency, max_body_bytes=args.max_body_bytes,
            rate_per_s=args.rate_limit, targets=settings.targets, grace=settings.grace,
            ack_timeout_s=args.ack_timeout_s, drain_s=args.drain_s,
        )  # fmt: skip
        server = build_server(settings.bootstrap_servers, args.tokens, host, int(port), gateway)
    except (ConfigError, TokenError, ValueError) as error:
        print(f"outcomes gateway: {error}", file=sys.stderr)
        return 2
    if args.tokens is not None:
        print(f"outcomes gateway: POST http://{args.listen}/v1/events", flush=True)
    elif settings.targets is None:
        print("outcomes gateway: give --tokens (for /v1/events) or --targets (for webhooks and"
              " OTLP): nothing could be accepted", file=sys.stderr)  # fmt: skip
        return 2
    if settings.targets is not None:
        print(f"outcomes gateway: POST http://{args.listen}/v1/hooks/INTEGRATION", flush=True)
        print(f"outcomes gateway: POST http://{args.listen}/v1/otlp/INTEGRATION/v1/traces"
              " (OTLP/HTTP of AI applications)", flush=True)  # fmt: skip
    server.run()
    return 0
