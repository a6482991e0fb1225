"""`outcomes demo`: the whole loop on one machine, with a live view."""

from __future__ import annotations

import argparse
from pathlib import Path

from collector.runtime import setup_logging


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="the whole loop on one machine, with a live view",
        description="Embedded broker, collector, sample projects and simulated producers.",
    )
    demo.add_argument("--listen", default="127.0.0.1:9470", help="HOST:PORT for /metrics")
    demo.add_argument("--rate", type=float, default=5.0, help="live simulated events per second")
    demo.add_argument("--duration-s", type=float, help="stop after this long (default: Ctrl-C)")
    demo.add_argument(
        "--state", help="SQLite path, kept after the demo (default: a temporary file, removed)"
    )
    demo.add_argument(
        "--targets", type=Path,
        help="your own declarations directory, added to the samples (edits reload)",
    )  # fmt: skip


def main(args: argparse.Namespace) -> int:
    setup_logging("WARNING")
    from outcomes.demo.run import run_demo

    return run_demo(args.listen, args.rate, args.duration_s, args.state, args.targets)
