"""The one way every verb reads its settings: flag > `OUTCOMES_*` environment > the config
file (`--config`, else `OUTCOMES_CONFIG`) > default."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collector.config import Settings


def config_file(given: Path | None) -> Path | None:
    """The collector's config file: `--config`, else `OUTCOMES_CONFIG`."""
    found = given or os.environ.get("OUTCOMES_CONFIG")
    return None if found is None else Path(found)


def settings_from(args: argparse.Namespace, flags: dict[str, Any]) -> Settings:
    """`flags` (None = not given) over the environment, the config file and the defaults.
    A verb's `--grace-days` is the `grace` setting. Raises `ConfigError`."""
    # pydantic-settings loads here, not with the flags: a verb can begin its work first
    from collector.config import load_settings

    grace_days: float | None = getattr(args, "grace_days", None)
    if grace_days is not None:
        flags = {**flags, "grace": timedelta(days=grace_days)}
    return load_settings(flags, config_file(getattr(args, "config", None)))


def add_config_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="the collector's YAML config file (or OUTCOMES_CONFIG)"
    )


def add_kafka_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bootstrap-servers", help="Kafka brokers (or OUTCOMES_BOOTSTRAP_SERVERS; default"
        " 127.0.0.1:9092)"
    )  # fmt: skip
    parser.add_argument("--topic", help="events topic (or OUTCOMES_TOPIC; default outcomes.events)")


def add_grace_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--grace-days",
        type=float,
        help="the collectors' grace window in days (or OUTCOMES_GRACE; default 7): events of"
        " periods closed longer ago are refused too_late",
    )
