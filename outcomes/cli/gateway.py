"""`outcomes gateway`: HTTP ingest (CloudEvents HTTP binding, webhooks) into Kafka."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from collector.config import ConfigError
from collector.runtime import setup_logging
from outcomes.cli.settings import add_config_flag, add_grace_flag, add_kafka_flags, settings_from

if TYPE_CHECKING:
    from exporters.prometheus.webconfig import WebConfig


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
    gateway.add_argument(
        "--web-config", type=Path,
        help="TLS for every route and credentials for /metrics, in the collector's web-config"
        " format (tls_server_config, basic_auth_users, bearer_tokens_sha256)",
    )  # fmt: skip
    gateway.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate")
    gateway.add_argument("--tls-key", type=Path, help="its private key")
    gateway.add_argument(
        "--tls-client-ca", type=Path,
        help="require client certificates signed by this CA (mutual TLS)",
    )  # fmt: skip
    add_grace_flag(gateway)


def main(args: argparse.Namespace) -> int:
    from exporters.prometheus.webconfig import Authenticator, WebConfigError
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
        web = web_config(args)
        gateway = GatewaySettings(
            topic=settings.topic, currency=settings.currency, max_body_bytes=args.max_body_bytes,
            rate_per_s=args.rate_limit, targets=settings.targets, grace=settings.grace,
            ack_timeout_s=args.ack_timeout_s, drain_s=args.drain_s,
            metrics_auth=Authenticator(web).allows if web.requires_auth else None,
        )  # fmt: skip
        server = build_server(
            settings.bootstrap_servers, args.tokens, host, int(port), gateway,
            tls=web.ssl_context(),
        )  # fmt: skip
    except (ConfigError, TokenError, ValueError, WebConfigError) as error:
        print(f"outcomes gateway: {error}", file=sys.stderr)
        return 2
    scheme = "https" if web.tls_server_config is not None else "http"
    if args.tokens is not None:
        print(f"outcomes gateway: POST {scheme}://{args.listen}/v1/events", flush=True)
    elif settings.targets is None:
        print("outcomes gateway: give --tokens (for /v1/events) or --targets (for webhooks and"
              " OTLP): nothing could be accepted", file=sys.stderr)  # fmt: skip
        return 2
    if settings.targets is not None:
        print(f"outcomes gateway: POST {scheme}://{args.listen}/v1/hooks/INTEGRATION", flush=True)
        print(f"outcomes gateway: POST {scheme}://{args.listen}/v1/otlp/INTEGRATION/v1/traces"
              " (OTLP/HTTP of AI applications)", flush=True)  # fmt: skip
    server.run()
    return 0


def web_config(args: argparse.Namespace) -> WebConfig:
    """--web-config, its TLS section replaced by --tls-cert/--tls-key/--tls-client-ca."""
    from exporters.prometheus.webconfig import TlsServerConfig, WebConfig, WebConfigError

    web = WebConfig() if args.web_config is None else WebConfig.load(args.web_config)
    if args.tls_cert is None and args.tls_key is None:
        if args.tls_client_ca is not None:
            raise WebConfigError("--tls-client-ca needs --tls-cert and --tls-key")
        return web
    if args.tls_cert is None or args.tls_key is None:
        raise WebConfigError("give both --tls-cert and --tls-key")
    tls = TlsServerConfig(cert_file=args.tls_cert, key_file=args.tls_key)
    if args.tls_client_ca is not None:
        tls = TlsServerConfig(
            cert_file=args.tls_cert, key_file=args.tls_key, client_ca_file=args.tls_client_ca,
            client_auth_type="RequireAndVerifyClientCert",
        )  # fmt: skip
    return web.model_copy(update={"tls_server_config": tls})
