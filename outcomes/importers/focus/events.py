"""A statement as `outcomes.cost.statement` events: one per project it mentions, and one
without lines for each project an earlier import mentioned and this one does not.

The event id is a digest of (statement, project, version): the same statement imported
again is the same events, which the collector counts once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from outcomes.importers.focus.mapping import SOURCE
from outcomes.importers.focus.statements import Statements, text_of
from schemas.envelope import OutcomeEvent
from schemas.events import CostStatement, EventType


def statement_events(
    statements: Statements,
    statement: str,
    *,
    issued: datetime,
    known: Iterable[str] = (),
    currency: str,
) -> list[OutcomeEvent]:
    """The statement's event for each of its projects, and an empty one for each project in
    `known` (mentioned by an earlier import) that it no longer mentions."""
    version = statements.version(statement)
    projects = sorted(set(statements.sums[statement]) | set(known))
    events = []
    for project in projects:
        lines = [
            {"day": day.isoformat(), "category": category, "amount": text_of(amount)}
            for day, category, amount in statements.lines(statement, project)
        ]
        data = CostStatement.model_validate(
            {"project": project, "statement": statement, "version": version,
             "issued_at": issued, "lines": lines, "currency": currency}
        )  # fmt: skip
        identity = f"{statement}\x1f{project}\x1f{version}".encode()
        event_id = "focus-statement-" + hashlib.blake2b(identity, digest_size=16).hexdigest()
        events.append(OutcomeEvent(event_id, SOURCE, EventType.COST_STATEMENT, issued, data))
    return events
