"""How the engine treats each project: its period, rate, services, objectives, labels.

This is the seam declarations plug into (docs/REFERENCE.md#declarations). A policy answers with an
immutable `ProjectProfile`; `DefaultPolicy` describes a project without declaration:
calendar months, the deployment's default hourly rate, every reported service, no
objectives (status `unscoped`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from collector.engine.periods import PeriodKind
from collector.engine.pricing import NO_PRICES, PriceList
from collector.engine.rates import HourlyRates

UNKNOWN = "unknown"
DEFAULT_RATES = HourlyRates.flat(Fraction(100))


@dataclass(frozen=True, slots=True)
class Objectives:
    """Per-period objectives in export units: ratios, currency, seconds."""

    uptime: Fraction | None = None
    savings: Fraction | None = None
    time_saved_s: Fraction | None = None
    roi: Fraction | None = None
    success_rate: Fraction | None = None
    acceptance_rate: Fraction | None = None

    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (
                self.uptime,
                self.savings,
                self.time_saved_s,
                self.roi,
                self.success_rate,
                self.acceptance_rate,
            )
        )


@dataclass(frozen=True, slots=True)
class Guards:
    min_runs: int = 20
    min_observed_s: Fraction = Fraction(3600)
    min_elapsed: Fraction = Fraction(1, 10)
    min_reviews: int = 20


@dataclass(frozen=True, slots=True)
class ProjectProfile:
    period_kind: PeriodKind = PeriodKind.MONTH
    hourly_rates: HourlyRates = DEFAULT_RATES
    """The hourly rate in force on each day (values time saved)."""
    rate_declared: bool = False
    """The project declared its hourly rate (else time saved is valued at the default)."""
    services: frozenset[str] | None = None
    """Services whose windows count for uptime; None means all reported."""
    uptime_from: str = "windows"
    """`windows` (availability.observed) or `incidents` (docs/REFERENCE.md#formulas)."""
    observed_since_s: float | None = None
    """Incidents basis: observed time counts from here (else from the period start)."""
    objectives: Objectives = field(default_factory=Objectives)
    guards: Guards = field(default_factory=Guards)
    declared: bool = False
    team: str = UNKNOWN
    owner: str = UNKNOWN
    sponsor: str = UNKNOWN
    stage: str = UNKNOWN
    stage_since_s: float | None = None
    budget: Fraction | None = None
    decision: str | None = None
    """The decision in force (`kind: Decision`), its owner and its review date."""
    decision_owner: str | None = None
    review_due_s: float | None = None
    document: Mapping[str, Any] = field(default_factory=dict)
    """The declaration's fields, flattened (what its history records)."""
    digest: str | None = None
    """The digest of `document`; None for an undeclared project."""


class ProjectPolicy(Protocol):
    """Read from the engine thread; implementations must be immutable or swap atomically."""

    @property
    def version(self) -> int:
        """Changes whenever any profile may have changed."""
        ...

    @property
    def prices(self) -> PriceList:
        """The declared price books (`kind: PriceBook`), in declaration order."""
        ...

    def profile(self, project: str) -> ProjectProfile: ...

    def declared_projects(self) -> Iterable[str]:
        """Projects that count in the portfolio even before their first event."""
        ...


@dataclass(frozen=True, slots=True)
class DefaultPolicy:
    default_hourly_rate: Fraction = Fraction(100)
    version: int = 0
    prices: PriceList = NO_PRICES
    _profile: ProjectProfile = field(default=ProjectProfile(), init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_profile",
            ProjectProfile(hourly_rates=HourlyRates.flat(self.default_hourly_rate)),
        )

    def profile(self, project: str) -> ProjectProfile:
        return self._profile

    def declared_projects(self) -> Iterable[str]:
        return ()
