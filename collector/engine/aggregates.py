"""Mutable accumulators of one project: lifetime counters and per-period totals.

All values are integer millionths (see `units`), so they add exactly. Owned by the
engine's thread; exporters never see these, only the snapshot built from them.
Serialized to plain JSON-able dicts for the state store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from collector.engine.rates import epoch_day
from collector.engine.units import to_micros
from schemas.events import (
    AvailabilityObserved,
    CostIncurred,
    EventData,
    RunFinished,
    SavingsRealized,
)

RUN_COST_CATEGORY = "run"

Micros = tuple[int, int, int]
"""One event's numbers in millionths, converted once for every aggregate (`micros_of`)."""


def micros_of(data: EventData) -> Micros:
    """Runs: (human effort, manual duration, cost); cost and savings: (amount, 0, 0);
    availability: (downtime, window length, 0)."""
    if isinstance(data, RunFinished):
        return run_micros(data)
    if isinstance(data, CostIncurred | SavingsRealized):
        return to_micros(data.amount), 0, 0
    if isinstance(data, AvailabilityObserved):
        return to_micros(data.downtime_s), to_micros(data.window_length_s), 0
    return 0, 0, 0


def run_micros(run: RunFinished) -> Micros:
    """A run's (human effort, manual duration, cost) in millionths (zero, the usual human
    effort, without a conversion)."""
    effort, manual, cost = run.human_effort_s, run.manual_duration_s, run.cost
    return (
        to_micros(effort) if effort else 0,
        to_micros(manual) if manual else 0,
        to_micros(cost) if cost else 0,
    )


class _Money(Protocol):
    cost_u: Counter[str]
    savings_u: Counter[str]


def summed(a: Counter[Any], b: Counter[Any]) -> Counter[Any]:
    """a + b keeping zero and negative entries (`Counter.__add__` drops them)."""
    total = Counter(a)
    total.update(b)
    return total


def _saved_by_day(raw: dict[str, Any], key: str, fallback_day: int, saved_us: int) -> Counter[int]:
    """Time saved per day from stored state; state written before versioned rates has
    none: its whole time saved is put on `fallback_day`."""
    stored = raw.get(key)
    if stored is None:
        return Counter({fallback_day: saved_us} if saved_us else {})
    return Counter({int(day): us for day, us in stored.items()})


def add_money(sums: _Money, data: EventData, micros: Micros) -> None:
    """Cost and savings add up the same way in every aggregate. (Availability windows
    are not summed: `ProjectState.observe_window` counts their union.)"""
    if isinstance(data, CostIncurred):
        sums.cost_u[data.category] += micros[0]
    elif isinstance(data, SavingsRealized):
        sums.savings_u[data.category] += micros[0]


@dataclass
class PeriodTotals:
    """Sums over the accepted events whose event time lies in one period."""

    runs: Counter[str] = field(default_factory=Counter)
    """outcome -> count."""
    manual_succeeded_us: int = 0
    human_effort_us: int = 0
    runs_with_effort: int = 0
    cost_u: Counter[str] = field(default_factory=Counter)
    savings_u: Counter[str] = field(default_factory=Counter)
    downtime_us: Counter[str] = field(default_factory=Counter)
    observed_us: Counter[str] = field(default_factory=Counter)
    saved_by_day_us: Counter[int] = field(default_factory=Counter)
    """Epoch day -> time saved that day (manual time of succeeded runs − human effort),
    so each day is valued at the hourly rate in force that day."""
    last_applied_s: float | None = None
    """Wall-clock time the newest event was applied: after the period's end = restated."""
    backfilled: int = 0
    """Events of a history import (`outcomesbackfill`) applied to this month."""

    def note_applied(self, now_s: float) -> None:
        if self.last_applied_s is None or now_s > self.last_applied_s:
            self.last_applied_s = now_s

    def add(self, data: EventData, micros: Micros, event_s: float) -> None:
        """Sum a run, cost or savings (`micros`: its numbers)."""
        if isinstance(data, RunFinished):
            self.add_run(data.outcome, micros, epoch_day(event_s))
        else:
            add_money(self, data, micros)

    def add_run(self, outcome: str, micros: Micros, day: int) -> None:
        """Count a run (`micros`: its numbers; `day`: the epoch day of its event time)."""
        self.runs[outcome] += 1
        effort_us, manual_us, cost_us = micros
        self.human_effort_us += effort_us
        if effort_us > 0:
            self.runs_with_effort += 1
        if outcome == "succeeded":
            self.manual_succeeded_us += manual_us
            self.saved_by_day_us[day] += manual_us - effort_us
        elif effort_us:
            self.saved_by_day_us[day] -= effort_us
        self.cost_u[RUN_COST_CATEGORY] += cost_us

    def merged(self, other: PeriodTotals) -> PeriodTotals:
        """The sum of two periods' totals (months -> quarter)."""
        return PeriodTotals(
            runs=summed(self.runs, other.runs),
            manual_succeeded_us=self.manual_succeeded_us + other.manual_succeeded_us,
            human_effort_us=self.human_effort_us + other.human_effort_us,
            runs_with_effort=self.runs_with_effort + other.runs_with_effort,
            cost_u=summed(self.cost_u, other.cost_u),
            savings_u=summed(self.savings_u, other.savings_u),
            downtime_us=summed(self.downtime_us, other.downtime_us),
            observed_us=summed(self.observed_us, other.observed_us),
            saved_by_day_us=summed(self.saved_by_day_us, other.saved_by_day_us),
            last_applied_s=max(
                (t for t in (self.last_applied_s, other.last_applied_s) if t is not None),
                default=None,
            ),
            backfilled=self.backfilled + other.backfilled,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": dict(self.runs),
            "manual_succeeded_us": self.manual_succeeded_us,
            "human_effort_us": self.human_effort_us,
            "runs_with_effort": self.runs_with_effort,
            "cost_u": dict(self.cost_u),
            "savings_u": dict(self.savings_u),
            "downtime_us": dict(self.downtime_us),
            "observed_us": dict(self.observed_us),
            "saved_by_day_us": {str(day): us for day, us in self.saved_by_day_us.items()},
            "last_applied_s": self.last_applied_s,
            "backfilled": self.backfilled,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any], first_day: int) -> PeriodTotals:
        """`first_day`: the period's first epoch day (for state older than dated rates)."""
        saved_us = raw["manual_succeeded_us"] - raw["human_effort_us"]
        return cls(
            runs=Counter(raw["runs"]),
            manual_succeeded_us=raw["manual_succeeded_us"],
            human_effort_us=raw["human_effort_us"],
            runs_with_effort=raw["runs_with_effort"],
            cost_u=Counter(raw["cost_u"]),
            savings_u=Counter(raw["savings_u"]),
            downtime_us=Counter(raw["downtime_us"]),
            observed_us=Counter(raw["observed_us"]),
            saved_by_day_us=_saved_by_day(raw, "saved_by_day_us", first_day, saved_us),
            last_applied_s=raw.get("last_applied_s"),
            backfilled=raw.get("backfilled", 0),
        )


@dataclass
class LifetimeCounters:
    """The persisted §6 counters of one project, plus first/last event time."""

    runs: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(automation, outcome) -> count; folded automations count under `other`."""
    manual_avoided_us: int = 0
    human_effort_us: int = 0
    cost_u: Counter[str] = field(default_factory=Counter)
    """Category -> money spent (the counter: credits are kept apart, so it never falls)."""
    credit_u: Counter[str] = field(default_factory=Counter)
    """Category -> credits and corrections (negative costs), as positive amounts."""
    savings_u: Counter[str] = field(default_factory=Counter)
    downtime_us: Counter[str] = field(default_factory=Counter)
    observed_us: Counter[str] = field(default_factory=Counter)
    saved_by_day_us: Counter[int] = field(default_factory=Counter)
    """Epoch day -> time saved that day (lifetime value at the rate of each day)."""
    first_event_s: float | None = None
    last_event_s: float | None = None

    def add(self, data: EventData, label: str, micros: Micros, event_time_s: float) -> None:
        """Count a run, cost or savings (`micros`: its numbers); `label`: the automation."""
        if isinstance(data, RunFinished):
            self.add_run(label, data.outcome, micros, event_time_s, epoch_day(event_time_s))
            return
        self.note_time(event_time_s)
        if isinstance(data, CostIncurred) and micros[0] < 0:
            self.credit_u[data.category] -= micros[0]
        else:
            add_money(self, data, micros)

    def add_run(
        self, label: str, outcome: str, micros: Micros, event_time_s: float, day: int
    ) -> None:
        """Count a run of automation `label` (`day`: the epoch day of `event_time_s`)."""
        self.note_time(event_time_s)
        self.runs[(label, outcome)] += 1
        effort_us, manual_us, cost_us = micros
        self.human_effort_us += effort_us
        if outcome == "succeeded":
            self.manual_avoided_us += manual_us
            self.saved_by_day_us[day] += manual_us - effort_us
        elif effort_us:
            self.saved_by_day_us[day] -= effort_us
        self.cost_u[RUN_COST_CATEGORY] += cost_us

    @property
    def net_cost_u(self) -> int:
        return sum(self.cost_u.values()) - sum(self.credit_u.values())

    def add_window(self, label: str, observed_us: int, downtime_us: int, event_s: float) -> None:
        """Count what a window added to its service's union (never a decrease: a counter
        only grows; a re-sent window with less downtime lowers the period's uptime loss,
        not this counter)."""
        self.note_time(event_s)
        self.observed_us[label] += observed_us
        self.downtime_us[label] += max(downtime_us, 0)

    def note_time(self, event_time_s: float) -> None:
        if self.first_event_s is None or event_time_s < self.first_event_s:
            self.first_event_s = event_time_s
        if self.last_event_s is None or event_time_s > self.last_event_s:
            self.last_event_s = event_time_s

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": [[automation, outcome, n] for (automation, outcome), n in self.runs.items()],
            "manual_avoided_us": self.manual_avoided_us,
            "human_effort_us": self.human_effort_us,
            "cost_u": dict(self.cost_u),
            "credit_u": dict(self.credit_u),
            "savings_u": dict(self.savings_u),
            "downtime_us": dict(self.downtime_us),
            "observed_us": dict(self.observed_us),
            "saved_by_day_us": {str(day): us for day, us in self.saved_by_day_us.items()},
            "first_event_s": self.first_event_s,
            "last_event_s": self.last_event_s,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LifetimeCounters:
        saved_us = raw["manual_avoided_us"] - raw["human_effort_us"]
        first_day = epoch_day(raw["first_event_s"] or 0.0)
        return cls(
            runs=Counter({(a, o): n for a, o, n in raw["runs"]}),
            manual_avoided_us=raw["manual_avoided_us"],
            human_effort_us=raw["human_effort_us"],
            cost_u=Counter(raw["cost_u"]),
            credit_u=Counter(raw.get("credit_u", {})),
            savings_u=Counter(raw["savings_u"]),
            downtime_us=Counter(raw["downtime_us"]),
            observed_us=Counter(raw["observed_us"]),
            saved_by_day_us=_saved_by_day(raw, "saved_by_day_us", first_day, saved_us),
            first_event_s=raw["first_event_s"],
            last_event_s=raw["last_event_s"],
        )
