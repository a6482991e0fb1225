"""How the engine treats each project: its period, hourly rate and counted services.

This is the seam declarations plug into (DESIGN §4). `DefaultPolicy` applies to
projects without a declaration: calendar months, the deployment's default hourly
rate and every reported service.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from collector.engine.periods import PeriodKind


class ProjectPolicy(Protocol):
    def period_kind(self, project: str) -> PeriodKind: ...

    def hourly_rate(self, project: str) -> Fraction: ...

    def services(self, project: str) -> frozenset[str] | None:
        """Services whose windows count for uptime; None means all reported."""
        ...


@dataclass(frozen=True, slots=True)
class DefaultPolicy:
    default_hourly_rate: Fraction = Fraction(100)

    def period_kind(self, project: str) -> PeriodKind:
        return PeriodKind.MONTH

    def hourly_rate(self, project: str) -> Fraction:
        return self.default_hourly_rate

    def services(self, project: str) -> frozenset[str] | None:
        return None
