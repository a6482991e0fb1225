"""Declaration history: every distinct accepted version of a project's declaration, with
when it took effect and what changed, so "met" is always judged against the objective in
force and a lowered target shows (docs/REFERENCE.md#declaration-history).

A declaration is kept as its flattened fields (`spec.objectives.savings` -> 20000) and
their digest; the engine appends a revision when a project's digest differs from its
latest one, and a stored revision is never rewritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from collector.state.model import RevisionRow

OBJECTIVES: Final = "spec.objectives."


def flattened(document: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as `a.b.c` -> value (lists and scalars are values)."""
    flat: dict[str, Any] = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flattened(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def digest_of(document: Mapping[str, Any]) -> str:
    """A short digest of the flattened fields (canonical JSON)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[list[Any]]:
    """[field, old, new] of each field that differs (None: absent), by field name."""
    return [
        [name, old.get(name), new.get(name)]
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    ]


def next_revision(
    history: list[RevisionRow], project: str, document: Mapping[str, Any], digest: str, now_s: float
) -> RevisionRow | None:
    """The revision to append when `digest` is not the latest one of `history`."""
    latest = history[-1] if history else None
    if latest is not None and latest.digest == digest:
        return None
    before = latest.document if latest is not None else {}
    return RevisionRow(
        project,
        (latest.revision if latest is not None else 0) + 1,
        digest,
        now_s,
        dict(document),
        changed_fields(before, document) if latest is not None else [],
    )


def in_force(history: list[RevisionRow], start_s: float, end_s: float) -> list[RevisionRow]:
    """The revisions that judged [start, end): the one in force at its start and every one
    that took effect before its end."""
    found = [r for r in history if start_s < r.effective_s < end_s]
    before = [r for r in history if r.effective_s <= start_s]
    return ([before[-1]] if before else []) + found


def lowered(history: list[RevisionRow], start_s: float, end_s: float) -> list[str]:
    """Each objective lowered or removed by a revision that took effect within the period,
    in words: `savings lowered 20000 -> 15000 (revision 3, 2026-11-12)`."""
    said = []
    for revision in history:
        if not start_s < revision.effective_s < end_s:
            continue
        day = datetime.fromtimestamp(revision.effective_s, UTC).date().isoformat()
        for name, old, new in revision.changes:
            if not name.startswith(OBJECTIVES) or old is None:
                continue
            objective = name.removeprefix(OBJECTIVES)
            where = f"(revision {revision.revision}, {day})"
            if new is None:
                said.append(f"{objective} removed (was {old}) {where}")
            elif isinstance(old, int | float) and isinstance(new, int | float) and new < old:
                said.append(f"{objective} lowered {old} -> {new} {where}")
    return said


class Declarations:
    """What the engine knows of each declared project's declaration over time: when it
    first took effect (as stored, or first seen here) and its history, oldest first (as
    stored, then appended)."""

    def __init__(self) -> None:
        self.since: dict[str, float] = {}
        self._histories: dict[str, list[RevisionRow]] = {}

    def adopt(self, since: Mapping[str, float], rows: Iterable[RevisionRow]) -> None:
        """What the store holds: a project's stored history as long as the one here or
        longer replaces it (another instance may have appended since)."""
        self.since.update(since)
        stored: dict[str, list[RevisionRow]] = {}
        for row in rows:
            stored.setdefault(row.project, []).append(row)
        for name, history in stored.items():
            if len(history) >= len(self._histories.get(name, ())):
                self._histories[name] = history

    def history(self, project: str) -> list[RevisionRow]:
        """`project`'s declaration history known here, oldest first."""
        return list(self._histories.get(project, ()))

    def revise(
        self, project: str, document: Mapping[str, Any], digest: str | None, now_s: float
    ) -> tuple[RevisionRow | None, RevisionRow | None]:
        """(the project's latest revision, the one appended now because its declaration's
        `digest` changed, if any)."""
        history = self._histories.setdefault(project, [])
        added = None
        if digest is not None:
            added = next_revision(history, project, document, digest, now_s)
            if added is not None:
                history.append(added)
        return (history[-1] if history else None), added
