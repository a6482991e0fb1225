"""The `outcomes` console script: one module per verb, each with `add_parser(commands)`
and `main(args) -> exit code`; every verb reads its settings one way
(`outcomes.cli.settings`: flag > environment > config file > default)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from outcomes.cli import collect, demo, dlq, emit, gateway, imports, report, targets
from outcomes.cli.collect import collect_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import ModuleType

VERBS: dict[str, ModuleType] = {
    "collect": collect,
    "emit": emit,
    "gateway": gateway,
    "targets": targets,
    "report": report,
    "import": imports,
    "demo": demo,
    "dlq": dlq,
}

__all__ = ["VERBS", "build_parser", "collect_settings", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outcomes",
        description="Outcome telemetry: is your automation paying off?",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for verb in VERBS.values():
        verb.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = VERBS[args.command].main
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
