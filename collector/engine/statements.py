"""Cloud bills as statements (docs/REFERENCE.md#outcomescoststatement).

Each project keeps, per statement (provider / billing account / billing period), the
lines of the latest version applied: (charge day, category) -> amount in billionths. A
later version replaces them exactly: the engine applies the difference of each line to
the month it lies in and to the lifetime counters (a rise as cost, a fall as a credit,
so the counters never fall), so a line the new version no longer has counts no more. The
same version again, or an older one arriving late, changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from collector.engine.units import MONEY_SCALE
from schemas.events import CostStatement
from schemas.snapshot import StatementSnapshot

Lines = dict[tuple[int, str], int]
"""(epoch day, category) -> billionths."""
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class KeptStatement:
    version: str
    issued_s: float
    lines: Lines

    def replaced_by(self, data: CostStatement) -> bool:
        """Whether `data` is a newer version (the same one, or an older one, is not)."""
        return data.version != self.version and data.issued_at.timestamp() >= self.issued_s

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "issued_s": self.issued_s,
            "lines": [[day, category, amount] for (day, category), amount in self.lines.items()],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> KeptStatement:
        lines = {(int(day), str(category)): int(amount) for day, category, amount in raw["lines"]}
        return cls(str(raw["version"]), float(raw["issued_s"]), lines)


def kept_from(data: CostStatement) -> KeptStatement:
    lines: Lines = {}
    for line in data.lines:
        amount = int(Decimal(line.amount) * MONEY_SCALE)  # at most 9 decimals: exact
        if amount:
            lines[((line.day - _EPOCH).days, line.category)] = amount
    return KeptStatement(data.version, data.issued_at.timestamp(), lines)


def differences(old: Lines, new: Lines) -> Iterator[tuple[int, str, int]]:
    """(epoch day, category, new − old) of every line that changed, in day order."""
    for key in sorted(old.keys() | new.keys()):
        delta = new.get(key, 0) - old.get(key, 0)
        if delta:
            yield key[0], key[1], delta


def statement_snapshots(statements: dict[str, KeptStatement]) -> tuple[StatementSnapshot, ...]:
    return tuple(
        StatementSnapshot(
            name,
            kept.version,
            kept.issued_s,
            float(Decimal(sum(kept.lines.values())) / MONEY_SCALE),
        )
        for name, kept in sorted(statements.items())
    )


@dataclass(frozen=True, slots=True)
class StatementShare:
    """What one statement's latest version puts in a period, for reports."""

    statement: str
    version: str
    issued_s: float
    cost: float


def shares_within(
    statements: dict[str, KeptStatement], start_s: float, end_s: float
) -> list[StatementShare]:
    """The statements with lines on the days from `start_s` to `end_s`, and their cost
    there (credits netted)."""
    first, last = int(start_s // 86_400), int((end_s - 1) // 86_400)
    found = []
    for name, kept in sorted(statements.items()):
        inside = [amount for (day, _), amount in kept.lines.items() if first <= day <= last]
        if inside:
            cost = float(Decimal(sum(inside)) / MONEY_SCALE)
            found.append(StatementShare(name, kept.version, kept.issued_s, cost))
    return found
