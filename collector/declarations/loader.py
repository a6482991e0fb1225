"""Reading declaration files: multi-document YAML, errors located by file, line and field.

Each YAML node's line is remembered while the document is built, so a pydantic error
at `spec.objectives.uptime` is reported at the line that holds that key (or, for a
missing field, at its parent).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from collector.declarations.decision import DecisionDeclaration
from collector.declarations.declaration import ProjectDeclaration
from collector.declarations.price_book import PriceBookDeclaration
from collector.integrations.declaration import IntegrationDeclaration

Path_ = tuple[str | int, ...]
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class DeclarationError:
    file: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


Declaration = (
    ProjectDeclaration | IntegrationDeclaration | PriceBookDeclaration | DecisionDeclaration
)
_MODELS: dict[object, type[Declaration]] = {
    "Integration": IntegrationDeclaration,
    "PriceBook": PriceBookDeclaration,
    "Decision": DecisionDeclaration,
}
"""The model of each `kind`; any other kind is read as a Project (whose model names the
kinds it accepts when the kind is wrong)."""
_RULE_PROBLEM = re.compile(r"^Value error, rules\[(\d+)\]: (\w+)")


@dataclass(frozen=True, slots=True)
class Located:
    declaration: Declaration
    file: Path
    line: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.declaration.kind, self.declaration.name)


def declaration_files(directory: Path) -> list[Path]:
    """Every *.yaml / *.yml below `directory`, sorted, hidden files skipped."""
    return sorted(
        path
        for path in directory.rglob("*")
        if path.suffix in SUFFIXES and path.is_file() and not path.name.startswith(".")
    )


def _lines(node: yaml.Node, prefix: Path_, index: dict[Path_, int]) -> None:
    index.setdefault(prefix, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*prefix, str(key.value))
            index[path] = key.start_mark.line + 1
            _lines(value, path, index)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _lines(item, (*prefix, position), index)


def _documents(text: str) -> Iterator[tuple[Any, dict[Path_, int]]]:
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            index: dict[Path_, int] = {}
            if node is not None:
                _lines(node, (), index)
                yield loader.construct_document(node), index
    finally:
        loader.dispose()


def _locate(index: dict[Path_, int], location: Path_) -> int:
    for cut in range(len(location), -1, -1):
        if location[:cut] in index:
            return index[location[:cut]]
    return 1


def _validation_errors(
    path: Path, error: ValidationError, index: dict[Path_, int]
) -> list[DeclarationError]:
    return [
        DeclarationError(
            path,
            _locate(index, _location(item["loc"], item["msg"])),
            ".".join(str(part) for part in _location(item["loc"], item["msg"])),
            item["msg"].removeprefix("Value error, "),
        )
        for item in error.errors(include_url=False)
    ]


def _location(loc: tuple[str | int, ...], message: str) -> Path_:
    """Where an error points; a rule problem (raised for the whole spec) at its rule's key."""
    rule = _RULE_PROBLEM.match(message)
    loc = tuple(part for part in loc if not (isinstance(part, str) and part.startswith("<")))
    if rule is None:
        return loc
    return (*loc, "rules", int(rule.group(1)), rule.group(2))


def _kind(document: Any) -> str | None:
    """The document's `kind` when it is a string (anything else is reported by the
    Project model's validation)."""
    kind = document.get("kind") if isinstance(document, dict) else None
    return kind if isinstance(kind, str) else None


def load_file(path: Path) -> tuple[list[Located], list[DeclarationError]]:
    """All declarations of one file, or the errors that make the file invalid."""
    try:
        text = path.read_text(encoding="utf-8")
        documents = list(_documents(text))
    except (OSError, UnicodeDecodeError) as error:
        return [], [DeclarationError(path, 1, "", f"cannot read: {error}")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        return [], [DeclarationError(path, line, "", f"YAML: {problem}")]
    found: list[Located] = []
    errors: list[DeclarationError] = []
    for document, index in documents:
        if document is None:
            continue
        model = _MODELS.get(_kind(document), ProjectDeclaration)
        try:
            declaration: Declaration = model.model_validate(document)
        except ValidationError as error:
            errors.extend(_validation_errors(path, error, index))
            continue
        found.append(Located(declaration, path, index.get((), 1)))
    return found, errors
