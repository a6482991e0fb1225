"""`outcomes targets history PROJECT`: a project's declaration history from the state store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from collector.config import Settings
from collector.state.model import RevisionRow
from outcomes.report.collect import stored


def declaration_history(settings: Settings, project: str) -> list[RevisionRow]:
    """Every stored revision of `project`'s declaration, oldest first."""
    return [row for row in stored(settings).revisions if row.project == project]


def when(moment_s: float) -> str:
    return (
        datetime.fromtimestamp(moment_s, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def revision_json(row: RevisionRow) -> dict[str, Any]:
    return {
        "project": row.project,
        "revision": row.revision,
        "effective": when(row.effective_s),
        "digest": row.digest,
        "changes": [{"field": f, "old": old, "new": new} for f, old, new in row.changes],
        "document": row.document,
    }


def history_json(rows: list[RevisionRow]) -> str:
    return json.dumps([revision_json(row) for row in rows], indent=2)


def _value(value: Any) -> str:
    return "—" if value is None else json.dumps(value) if not isinstance(value, str) else value


def history_text(rows: list[RevisionRow]) -> str:
    """One block per revision: `revision 2  2026-11-12T09:30:00Z  9f2c4e1a7b3d5f60` and
    its changed fields, `  spec.objectives.savings: 20000 -> 15000`."""
    lines = [f"{rows[0].project}: {len(rows)} revision{'s' if len(rows) != 1 else ''}"]
    for row in rows:
        lines.append(f"revision {row.revision}  {when(row.effective_s)}  {row.digest}")
        if row.revision == 1 or not row.changes:
            lines.append("  first version seen" if row.revision == 1 else "  (no field changed)")
        lines += [f"  {f}: {_value(old)} -> {_value(new)}" for f, old, new in row.changes]
    return "\n".join(lines)
