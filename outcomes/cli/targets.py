"""`outcomes targets check PATH…`: validate declaration files or directories."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from outcomes.cli.settings import add_config_flag, settings_from


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    targets = commands.add_parser("targets", help="work with project declarations")
    verbs = targets.add_subparsers(dest="verb", required=True, metavar="VERB")
    check = verbs.add_parser(
        "check",
        help="validate declarations",
        description="Validate declaration files, or every *.yaml/*.yml below a directory;"
        " exit 1 with file:line messages.",
    )
    check.add_argument("paths", type=Path, nargs="+", metavar="PATH")
    history = verbs.add_parser(
        "history",
        help="every version of a project's declaration",
        description="Every distinct version of PROJECT's declaration the collector applied:"
        " its revision, when it took effect, its digest and the fields it changed (old ->"
        " new). Reads the collector's state store (--state, or the config as outcomes"
        " report does).",
    )
    add_config_flag(history)
    history.add_argument("project", metavar="PROJECT")
    history.add_argument(
        "--state", help="SQLite path or postgresql:// DSN of the collector's state"
    )
    history.add_argument("--format", choices=("table", "json"), default="table")


def main(args: argparse.Namespace) -> int:
    if args.verb == "history":
        return run_targets_history(args)
    return run_targets_check(args.paths)


def run_targets_history(args: argparse.Namespace) -> int:
    from collector.config import ConfigError
    from outcomes.report import ReportError
    from outcomes.report.history import declaration_history, history_json, history_text

    try:
        settings = settings_from(args, {"state": args.state})
        revisions = declaration_history(settings, args.project)
    except (ConfigError, ReportError) as error:
        print(f"outcomes targets history: {error}", file=sys.stderr)
        return 2
    if not revisions:
        print(
            f"outcomes targets history: no declaration of {args.project} in"
            f" {settings.state} (is it declared, and has a collector run since?)",
            file=sys.stderr,
        )
        return 1
    print(history_json(revisions) if args.format == "json" else history_text(revisions))
    return 0


def run_targets_check(paths: list[Path]) -> int:
    previous = logging.root.manager.disable
    logging.disable(logging.ERROR)  # the loader logs what this prints
    try:
        return _check(paths)
    finally:
        logging.disable(previous)


def _check(paths: list[Path]) -> int:
    from collections import Counter

    from collector.declarations.advice import advice
    from collector.declarations.loader import Located, declaration_files, load_file
    from collector.declarations.registry import DeclarationRegistry

    kinds: Counter[str] = Counter()
    files = invalid = 0
    every: list[Located] = []
    for path in paths:
        if path.is_dir():
            registry = DeclarationRegistry(path)
            errors = list(registry.reload().errors)
            states = registry.file_states()
            files += len(states)
            invalid += sum(1 for _, ok in states if not ok)
            found: list[Located] = [
                item for file in declaration_files(path) for item in load_file(file)[0]
            ]
        elif path.is_file():
            found, errors = load_file(path)
            files += 1
            invalid += bool(errors)
        else:
            print(f"outcomes targets check: {path}: no such file or directory", file=sys.stderr)
            return 2
        kinds.update(item.declaration.kind for item in found)
        every += found
        for error in errors:
            print(error, file=sys.stderr)
    if invalid:
        print(f"{invalid} of {files} files invalid", file=sys.stderr)
        return 1
    warnings = advice(every)
    for warning in warnings:
        print(warning, file=sys.stderr)
    books, decisions = kinds["PriceBook"], kinds["Decision"]
    priced = f", {books} price book{'s' if books != 1 else ''}" if books else ""
    decided = f", {decisions} decision{'s' if decisions != 1 else ''}" if decisions else ""
    print(
        f"ok: {kinds['Project']} projects, {kinds['Integration']} integrations{priced}{decided}"
        f" in {files} files"
        + (f"; {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else "")
    )
    return 0
