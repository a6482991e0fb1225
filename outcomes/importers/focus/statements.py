"""What one import says about each statement: exact sums, rounded once into its lines (sent
as `outcomes.cost.statement` events: `events`).

A statement is one (ProviderName, BillingAccountId, BillingPeriodStart): a provider
rewrites it until the billing period is final, and one import run is its full statement
(docs/INTEGRATIONS.md, "Cloud cost from FOCUS exports"). The importer sums each project's
charges per charge day and category exactly (decimal arithmetic) and rounds each sum once,
to 9 decimals. The statement's version is a digest of those sums over all its projects, so
importing the same rows again, in any order or file split, sends the same version, which the
collector ignores.

A project the previous import of a statement mentioned and this one does not must hear
that its cost in it is now nothing: the importer keeps, per statement, every project it ever
sent to on a compacted topic beside the events (`<topic>.statements`, one record per
statement), and sends those projects a statement without lines.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, InvalidOperation, Overflow
from typing import Final

from outcomes.importers.focus.mapping import Charge

NINE_DECIMALS: Final = Decimal("0.000000001")
EXACT: Final = Context(prec=120, traps=[Inexact, InvalidOperation, Overflow])
"""Sums of amounts, never rounded (an amount has at most 12 integer digits): an inexact
sum would raise rather than be wrong."""
Sums = dict[tuple[date, str], Decimal]
"""(charge day, category) -> exact sum."""


@dataclass
class Tally:
    """Where the column path counts plain charges and zero amounts at once (as `run._read`
    counts the charges it is given): the statements' exact sums, rows per project; charges
    after `latest` are handed back (they withhold their statement)."""

    sums: dict[str, dict[str, dict[tuple[date, str], Decimal]]]
    counted: Counter[str]
    latest: date
    read: int = 0
    zero: int = 0
    """Rows whose amount is 0 (skipped `zero_cost`)."""


@dataclass
class Statements:
    """The sums of one import, per statement and project; statements withheld and why."""

    sums: dict[str, dict[str, Sums]] = field(default_factory=dict)
    withheld: dict[str, Counter[str]] = field(default_factory=dict)
    """Statement -> reasons (with row counts) it is not sent: it would not be complete."""

    def add(self, charge: Charge) -> None:
        projects = self.sums.setdefault(charge.statement, {})
        sums = projects.setdefault(charge.project, {})
        key = (charge.day, charge.category)
        sums[key] = EXACT.add(sums.get(key, Decimal(0)), charge.amount)

    def exact(self, project: str) -> Decimal:
        """The project's cost in every statement, summed exactly (not rounded)."""
        total = Decimal(0)
        for projects in self.sums.values():
            for amount in projects.get(project, {}).values():
                total = EXACT.add(total, amount)
        return total

    def withhold(self, statement: str, reason: str) -> None:
        self.withheld.setdefault(statement, Counter())[reason] += 1

    def complete(self) -> list[str]:
        """The statements to send, in name order."""
        return sorted(name for name in self.sums if name not in self.withheld)

    def lines(self, statement: str, project: str) -> list[tuple[date, str, Decimal]]:
        """The project's lines: each sum rounded once, lines of 0 left out."""
        found = []
        for (day, category), amount in sorted(self.sums[statement].get(project, {}).items()):
            rounded = amount.quantize(NINE_DECIMALS, rounding=ROUND_HALF_EVEN)
            if rounded:
                found.append((day, category, rounded))
        return found

    def total(self, statement: str, project: str) -> Decimal:
        return sum((amount for _, _, amount in self.lines(statement, project)), Decimal(0))

    def version(self, statement: str) -> str:
        """The digest of the statement's lines, all projects."""
        digest = hashlib.blake2b(statement.encode(), digest_size=8)
        for project in sorted(self.sums[statement]):
            for day, category, amount in self.lines(statement, project):
                digest.update(f"\n{project}\x1f{day}\x1f{category}\x1f{text_of(amount)}".encode())
        return digest.hexdigest()


def text_of(amount: Decimal) -> str:
    """`12.5`, `-0.000000001`, `130`: plain decimal notation, no exponent."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def known_projects(raw: bytes | None) -> set[str]:
    """The projects a manifest record lists (nothing if it is not one)."""
    try:
        document = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        return set()
    projects = document.get("projects") if isinstance(document, dict) else None
    return {p for p in projects if isinstance(p, str)} if isinstance(projects, list) else set()
