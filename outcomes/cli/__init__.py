"""The `outcomes` console script: one module per verb, each with `add_parser(commands)`
and `main(args) -> exit code`; every verb reads its settings one way
(`outcomes.cli.settings`: flag > environment > config file > default)."""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import ModuleType

    from collector.config import Settings

VERBS: dict[str, str] = {
    "collect": "outcomes.cli.collect",
    "emit": "outcomes.cli.emit",
    "gateway": "outcomes.cli.gateway",
    "targets": "outcomes.cli.targets",
    "report": "outcomes.cli.report",
    "import": "outcomes.cli.imports",
    "demo": "outcomes.cli.demo",
    "dlq": "outcomes.cli.dlq",
}
"""Each verb's module, imported only when it is the one run (or for `outcomes --help`):
a verb starts without loading what the others need."""

__all__ = ["VERBS", "build_parser", "collect_settings", "main"]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every verb, or of the verb `only`."""
    parser = argparse.ArgumentParser(
        prog="outcomes",
        description="Outcome telemetry: is your automation paying off?",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in [only] if only else VERBS:
        _verb(name).add_parser(commands)
    return parser


def collect_settings(args: argparse.Namespace) -> Settings:
    """`outcomes collect`'s settings from its parsed flags."""
    from outcomes.cli.collect import collect_settings as settings_of

    return settings_of(args)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    only = arguments[0] if arguments and arguments[0] in VERBS else None
    args = build_parser(only).parse_args(arguments)
    run: Callable[[argparse.Namespace], int] = _verb(args.command).main
    code = run(args)
    # what is left is freed at exit: CPython's last collection would walk every object the
    # verb made (a tenth of a short import's time), for nothing
    gc.freeze()
    return code


def _verb(name: str) -> ModuleType:
    return importlib.import_module(VERBS[name])


if __name__ == "__main__":
    sys.exit(main())
