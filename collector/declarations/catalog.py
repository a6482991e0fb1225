"""The declarations in force, as the engine's `ProjectPolicy` (immutable)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from fractions import Fraction

from collector.declarations.decision import DecisionDeclaration
from collector.declarations.declaration import ProjectDeclaration, RateChange
from collector.engine.formulas import exact
from collector.engine.policy import UNKNOWN, Guards, Objectives, ProjectProfile
from collector.engine.pricing import NO_PRICES, PriceList
from collector.engine.rates import HourlyRates, day_of
from collector.engine.revisions import digest_of, flattened
from collector.integrations.declaration import IntegrationDeclaration

SECONDS_PER_HOUR = 3600


def _maybe(value: float | None) -> Fraction | None:
    return None if value is None else exact(value)


def rates_of(declared: float | list[RateChange] | None, default: Fraction) -> HourlyRates:
    """A plain number is in force every day; a dated list from each `since` on."""
    if declared is None:
        return HourlyRates.flat(default)
    if isinstance(declared, list):
        return HourlyRates(tuple((day_of(rate.since), exact(rate.value)) for rate in declared))
    return HourlyRates.flat(exact(declared))


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def profile_of(declaration: ProjectDeclaration, default_hourly_rate: Fraction) -> ProjectProfile:
    spec = declaration.spec
    wanted, guards = spec.objectives, spec.guards
    hours = _maybe(wanted.timeSavedHours)
    since = spec.stageSince
    document = flattened(
        declaration.model_dump(mode="json", exclude={"apiVersion", "kind"}, exclude_none=True)
    )
    return ProjectProfile(
        period_kind=spec.period,
        hourly_rates=rates_of(spec.hourlyRate, default_hourly_rate),
        rate_declared=spec.hourlyRate is not None,
        services=frozenset(spec.services) if spec.services else None,
        uptime_from=spec.uptimeFrom,
        observed_since_s=None if spec.observedSince is None else _midnight(spec.observedSince),
        objectives=Objectives(
            uptime=_maybe(wanted.uptime),
            savings=_maybe(wanted.savings),
            time_saved_s=None if hours is None else hours * SECONDS_PER_HOUR,
            roi=_maybe(wanted.roi),
            success_rate=_maybe(wanted.successRate),
            acceptance_rate=_maybe(wanted.acceptanceRate),
        ),
        guards=Guards(
            min_runs=guards.minRuns,
            min_observed_s=exact(guards.minObservedHours) * SECONDS_PER_HOUR,
            min_elapsed=exact(guards.minElapsed),
            min_reviews=guards.minReviews,
        ),
        declared=True,
        team=declaration.team or UNKNOWN,
        owner=spec.owner or UNKNOWN,
        sponsor=spec.sponsor or UNKNOWN,
        stage=spec.stage,
        stage_since_s=None if since is None else _midnight(since),
        budget=_maybe(spec.budget),
        document=document,
        digest=digest_of(document),
    )


@dataclass(frozen=True)
class Catalog:
    """Profiles by project name; undeclared projects get the default profile."""

    declarations: Mapping[str, ProjectDeclaration] = field(default_factory=dict)
    default_hourly_rate: Fraction = Fraction(100)
    version: int = 0
    integrations: Mapping[str, IntegrationDeclaration] = field(default_factory=dict)
    """`kind: Integration` documents by name (the gateway's hooks, CDEvents on the topic)."""
    prices: PriceList = NO_PRICES
    """`kind: PriceBook` documents' prices, in declaration order."""
    decisions: Mapping[str, DecisionDeclaration] = field(default_factory=dict)
    """Each project's decision in force (`kind: Decision`, the latest by date)."""
    decision_record: tuple[DecisionDeclaration, ...] = ()
    """Every decision declared, in file order (the report lists them)."""
    _profiles: dict[str, ProjectProfile] = field(default_factory=dict, init=False, repr=False)
    _default: ProjectProfile = field(default=ProjectProfile(), init=False, repr=False)

    def __post_init__(self) -> None:
        for name, declaration in self.declarations.items():
            self._profiles[name] = profile_of(declaration, self.default_hourly_rate)
        default = ProjectProfile(hourly_rates=HourlyRates.flat(self.default_hourly_rate))
        object.__setattr__(self, "_default", default)
        for name, decision in self.decisions.items():
            if name not in self._profiles:  # a decision about a project not declared
                continue
            self._profiles[name] = replace(
                self._profiles[name],
                decision=decision.spec.decision,
                decision_owner=decision.spec.owner,
                review_due_s=decision.review_due_s,
            )

    def profile(self, project: str) -> ProjectProfile:
        found = self._profiles.get(project)
        return found if found is not None else self._default

    def declared_projects(self) -> Iterable[str]:
        return self._profiles.keys()
