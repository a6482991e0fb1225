"""Declarations in force, reloaded on change; a broken file keeps its last good version.

Threading: `reload` is called from one thread (the watcher's, or the CLI); the
`Catalog` it returns is immutable and is handed to the engine by reference.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from collector.declarations.catalog import Catalog
from collector.declarations.decision import DecisionDeclaration, latest
from collector.declarations.declaration import ProjectDeclaration
from collector.declarations.loader import DeclarationError, Located, declaration_files, load_file
from collector.declarations.price_book import PriceBookDeclaration, price_list
from collector.integrations.declaration import IntegrationDeclaration

log = logging.getLogger(__name__)

Signature = str


@dataclass(frozen=True, slots=True)
class ReloadResult:
    catalog: Catalog
    errors: tuple[DeclarationError, ...]
    """Current problems of every invalid file (their last good version stays in force)."""
    changed: bool


class DeclarationRegistry:
    def __init__(
        self, directory: Path | None, default_hourly_rate: Fraction = Fraction(100)
    ) -> None:
        self.directory = directory
        self._default_rate = default_hourly_rate
        self._signatures: dict[Path, Signature] = {}
        self._good: dict[Path, list[Located]] = {}
        self._errors: dict[Path, list[DeclarationError]] = {}
        self._version = 0
        self.catalog = Catalog(default_hourly_rate=default_hourly_rate)
        self.reloads: Counter[str] = Counter()

    def reload(self) -> ReloadResult:
        """Re-read new, changed and removed files; returns the catalog now in force."""
        if self.directory is None:
            return ReloadResult(self.catalog, (), False)
        files = set(declaration_files(self.directory)) if self.directory.is_dir() else set()
        changed = self._forget_removed(files)
        for path in sorted(files):
            signature = _signature(path)
            if signature is None or self._signatures.get(path) == signature:
                continue
            self._signatures[path] = signature
            changed |= self._read(path)
        if changed:
            self._version += 1
            self.catalog = self._build()
        errors = tuple(error for path in sorted(self._errors) for error in self._errors[path])
        return ReloadResult(self.catalog, errors, changed)

    def file_states(self) -> list[tuple[str, bool]]:
        """(file, valid) for every declaration file known."""
        return [(str(path), path not in self._errors) for path in sorted(self._signatures)]

    def _forget_removed(self, files: set[Path]) -> bool:
        removed = set(self._signatures) - files
        for path in removed:
            self._signatures.pop(path, None)
            self._good.pop(path, None)
            self._errors.pop(path, None)
        return bool(removed)

    def _read(self, path: Path) -> bool:
        found, errors = load_file(path)
        errors += self._duplicates(path, found)
        if errors:
            self._errors[path] = errors
            self.reloads["failure"] += 1
            kept = (
                "its last good version stays in force"
                if path in self._good
                else "no valid version of this file was ever loaded: its projects are not declared"
            )
            for error in errors:
                log.error("declaration rejected (%s): %s", kept, error)
            return False
        self._errors.pop(path, None)
        self._good[path] = found
        self.reloads["success"] += 1
        log.info(
            "declarations loaded from %s: %s", path, ", ".join(f.declaration.name for f in found)
        )
        return True

    def _duplicates(self, path: Path, found: list[Located]) -> list[DeclarationError]:
        owners = {
            item.key: item for other, items in self._good.items() if other != path for item in items
        }
        errors = []
        for item in found:
            first = owners.get(item.key)
            if first is not None:
                errors.append(
                    DeclarationError(
                        path,
                        item.line,
                        "metadata.name",
                        f"{item.declaration.kind.lower()} {item.declaration.name!r} is already"
                        f" declared at {first.file}:{first.line}",
                    )
                )
            owners.setdefault(item.key, item)
        return errors

    def _build(self) -> Catalog:
        located = [item for path in sorted(self._good) for item in self._good[path]]
        projects = {
            item.declaration.name: item.declaration
            for item in located
            if isinstance(item.declaration, ProjectDeclaration)
        }
        integrations = {
            item.declaration.name: item.declaration
            for item in located
            if isinstance(item.declaration, IntegrationDeclaration)
        }
        books = [
            item.declaration
            for item in located
            if isinstance(item.declaration, PriceBookDeclaration)
        ]
        decisions = [
            item.declaration
            for item in located
            if isinstance(item.declaration, DecisionDeclaration)
        ]
        return Catalog(
            projects, self._default_rate, self._version, integrations, price_list(books),
            latest(decisions), tuple(decisions),
        )  # fmt: skip


def _signature(path: Path) -> Signature | None:
    """A content digest: catches edits that keep the size and the mtime granularity."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
