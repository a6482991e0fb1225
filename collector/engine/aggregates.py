"""Mutable accumulators of one project: lifetime counters and per-period totals.

Durations are integer millionths, money integer billionths (see `units`), so they add
exactly. Owned by the
engine's thread; exporters never see these, only the snapshot built from them.
Serialized to plain JSON-able dicts for the state store.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from collector.engine.fields import COST, RUN, SAVING, WINDOW
from collector.engine.pricing import Priced
from collector.engine.rates import epoch_day
from collector.engine.tally import Tally
from collector.engine.units import MICROS_TO_MONEY, to_micros, to_money
from schemas.events import (
    AiUsage,
    AvailabilityObserved,
    CostIncurred,
    CostStatement,
    EventData,
    IncidentOpened,
    IncidentResolved,
    ReviewRecorded,
    RunFinished,
    SavingsRealized,
)

INPUT_OF: Final[dict[type[EventData], str]] = {
    RunFinished: "runs",
    CostIncurred: "cost",
    CostStatement: "cost",
    AiUsage: "cost",
    SavingsRealized: "savings",
    AvailabilityObserved: "availability",
    IncidentOpened: "incidents",
    IncidentResolved: "incidents",
    ReviewRecorded: "reviews",
}
"""The input each event type is of (readiness: did each objective's inputs report?)."""

RUN_COST_CATEGORY: Final = "run"
AI_COST_CATEGORY = "ai"
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write", "reasoning")

_NEVER_S: Final = float("-inf")

Micros = tuple[int, int, int]
"""One event's numbers, converted once for every aggregate (`micros_of`): durations in
millionths of a second, money in billionths."""


def micros_of(data: EventData) -> Micros:
    """Runs: (human effort, manual duration, cost); cost and savings: (amount, 0, 0);
    availability: (downtime, window length, 0)."""
    kind = type(data)  # by identity: `isinstance` asks pydantic's metaclass (no subclasses)
    if kind is COST or kind is SAVING:
        return to_money(data.amount), 0, 0  # type: ignore[union-attr]
    if kind is RUN:
        return run_micros(data)  # type: ignore[arg-type]
    if kind is WINDOW:
        return to_micros(data.downtime_s), to_micros(data.window_length_s), 0  # type: ignore[union-attr]
    return 0, 0, 0


def run_micros(run: RunFinished) -> Micros:
    """A run's (human effort µs, manual duration µs, cost in billionths) (zero, the usual
    human effort, without a conversion)."""
    effort, manual, cost = run.human_effort_s, run.manual_duration_s, run.cost
    return (
        to_micros(effort) if effort else 0,
        to_micros(manual) if manual else 0,
        to_money(cost) if cost else 0,
    )


def token_counts(usage: AiUsage) -> tuple[int | None, ...]:
    """A call's tokens in `TOKEN_TYPES` order (None: the call did not say)."""
    return (
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.reasoning_tokens,
    )


class _Money(Protocol):
    cost_n: Counter[str]
    savings_n: Counter[str]


def summed(a: Counter[Any], b: Counter[Any]) -> Counter[Any]:
    """a + b keeping zero and negative entries (`Counter.__add__` drops them)."""
    total = Tally(a)
    total.update(b)
    return total


def money(raw: dict[str, Any], key: str) -> Counter[str]:
    """Amounts by category from stored state: `{key}_n` in billionths, or the `{key}_u`
    millionths written before money was kept to 1e-9 (the same numbers, × 1000)."""
    stored = raw.get(f"{key}_n")
    if stored is not None:
        return Tally(stored)
    return Tally({name: u * MICROS_TO_MONEY for name, u in raw.get(f"{key}_u", {}).items()})


_NO_COLUMNS: Final[dict[str, Sequence[Any]]] = {"keys": (), "n": ()}


def columns(counts: Counter[Any]) -> dict[str, Sequence[Any]]:
    """How a counter whose keys are not strings is stored: `{"keys": [...], "n": [...]}`,
    its keys and counts in the same order. Two lists: the batch's rows make no object per
    entry (the key tuples are the counter's own), so the cycle collector has nothing more
    to walk while the rows wait for their commit, and orjson encodes them as they are."""
    if not counts:  # AI and review counters of most projects
        return _NO_COLUMNS
    return {"keys": list(counts), "n": list(counts.values())}


def _saved_by_day(raw: dict[str, Any], key: str, fallback_day: int, saved_us: int) -> Counter[int]:
    """Time saved per day from stored state; state written before versioned rates has
    none: its whole time saved is put on `fallback_day`."""
    stored = raw.get(key)
    if stored is None:
        return Tally({fallback_day: saved_us} if saved_us else {})
    if isinstance(stored, dict) and "keys" not in stored:  # {"day": µs}, before pairs
        return Tally({int(day): us for day, us in stored.items()})
    return keyed(stored, 0)


def keyed(stored: Any, width: int) -> Counter[Any]:
    """A counter from stored state: `columns` (what `to_json` writes), or `[[k1, …, kN],
    n]` pairs, or flat `[k1, …, kN, n]` rows, as written before them. `width`: parts of a
    tuple key (0: keys that are not tuples, which have no flat rows)."""
    if isinstance(stored, dict):
        keys = stored["keys"]
        if width:
            keys = [tuple(key) for key in keys]
        return Tally(dict(zip(keys, stored["n"], strict=True)))
    counts: Counter[Any] = Tally()
    for row in stored:
        if isinstance(row[0], str) and width:  # flat: the key's first part comes first
            counts[tuple(row[:width])] = row[width]
        else:
            counts[tuple(row[0]) if width else row[0]] = row[1]
    return counts


def add_money(sums: _Money, data: EventData, micros: Micros) -> None:
    """Cost and savings add up the same way in every aggregate. (Availability windows
    are not summed: `ProjectState.observe_window` counts their union.)"""
    kind = type(data)
    if kind is COST:
        counts, category = sums.cost_n, data.category  # type: ignore[union-attr]
    elif kind is SAVING:
        counts, category = sums.savings_n, data.category  # type: ignore[union-attr]
    else:
        return
    counts[category] = counts.get(category, 0) + micros[0]


REVISIONS: Final = itertools.count(1)
"""One increasing sequence for every change to a month (or a project's incidents)."""


@dataclass
class PeriodTotals:
    """Sums over the accepted events whose event time lies in one period."""

    runs: Counter[str] = field(default_factory=Tally)
    """outcome -> count."""
    manual_succeeded_us: int = 0
    human_effort_us: int = 0
    runs_with_effort: int = 0
    cost_n: Counter[str] = field(default_factory=Tally)
    savings_n: Counter[str] = field(default_factory=Tally)
    measured_n: int = 0
    """The part of `savings_n` with `evidence: measured` (the rest is estimated)."""
    downtime_us: Counter[str] = field(default_factory=Tally)
    observed_us: Counter[str] = field(default_factory=Tally)
    saved_by_day_us: Counter[int] = field(default_factory=Tally)
    """Epoch day -> time saved that day (manual time of succeeded runs − human effort),
    so each day is valued at the hourly rate in force that day."""
    last_applied_s: float | None = None
    """Wall-clock time the newest event was applied: after the period's end = restated."""
    backfilled: int = 0
    """Events of a history import (`outcomesbackfill`) applied to this month."""
    ai_calls: int = 0
    ai_unpriced: int = 0
    """Model calls, and those without a price (their cost is missing from `cost_n`)."""
    reviews: Counter[str] = field(default_factory=Tally)
    """verdict -> runs of the period with that verdict (the latest review of each)."""
    review_effort_us: int = 0
    """Human effort of those reviews."""
    forfeited_us: int = 0
    """Manual time of succeeded runs rejected or escalated: no longer time saved."""
    baselines: Counter[str] = field(default_factory=Tally)
    """Automation -> the manual time its succeeded runs reported (the baselines time
    saved rests on); `succeeded`: how many runs that was."""
    succeeded: Counter[str] = field(default_factory=Tally)
    revision: int = field(default=0, compare=False)
    """When it last changed, from `REVISIONS` (in memory only: what the closed-period
    figures kept for the boards were computed from)."""

    @property
    def saved_us(self) -> int:
        """Time saved: manual time of succeeded runs kept by their review, less all effort."""
        return (
            self.manual_succeeded_us
            - self.forfeited_us
            - self.human_effort_us
            - self.review_effort_us
        )

    def note_applied(self, now_s: float) -> None:
        if self.last_applied_s is None or now_s > self.last_applied_s:
            self.last_applied_s = now_s
        self.revision = next(REVISIONS)

    def add(self, data: EventData, micros: Micros) -> None:
        """Sum a cost or savings (`micros`: its numbers; runs: `run_counts.count_run`)."""
        add_money(self, data, micros)
        if type(data) is SAVING and data.evidence == "measured":
            self.measured_n += micros[0]

    def add_usage(self, cost: int | None) -> None:
        """Count a model call's cost (None: unpriced) as AI cost of the period."""
        self.ai_calls += 1
        if cost is None:
            self.ai_unpriced += 1
        else:
            spent = self.cost_n
            spent[AI_COST_CATEGORY] = spent.get(AI_COST_CATEGORY, 0) + cost

    def merged(self, other: PeriodTotals) -> PeriodTotals:
        """The sum of two periods' totals (months -> quarter)."""
        return PeriodTotals(
            runs=summed(self.runs, other.runs),
            manual_succeeded_us=self.manual_succeeded_us + other.manual_succeeded_us,
            human_effort_us=self.human_effort_us + other.human_effort_us,
            runs_with_effort=self.runs_with_effort + other.runs_with_effort,
            cost_n=summed(self.cost_n, other.cost_n),
            savings_n=summed(self.savings_n, other.savings_n),
            measured_n=self.measured_n + other.measured_n,
            downtime_us=summed(self.downtime_us, other.downtime_us),
            observed_us=summed(self.observed_us, other.observed_us),
            saved_by_day_us=summed(self.saved_by_day_us, other.saved_by_day_us),
            last_applied_s=max(
                (t for t in (self.last_applied_s, other.last_applied_s) if t is not None),
                default=None,
            ),
            backfilled=self.backfilled + other.backfilled,
            ai_calls=self.ai_calls + other.ai_calls,
            ai_unpriced=self.ai_unpriced + other.ai_unpriced,
            reviews=summed(self.reviews, other.reviews),
            review_effort_us=self.review_effort_us + other.review_effort_us,
            forfeited_us=self.forfeited_us + other.forfeited_us,
            baselines=summed(self.baselines, other.baselines),
            succeeded=summed(self.succeeded, other.succeeded),
        )

    def to_json(self) -> dict[str, Any]:
        """The stored form. It holds the live counters, not copies (a copy each per
        batch and project is what the cycle collector walked most): encode it before
        anything is applied again, as the state stores' commit does."""
        return {
            "runs": self.runs,
            "manual_succeeded_us": self.manual_succeeded_us,
            "human_effort_us": self.human_effort_us,
            "runs_with_effort": self.runs_with_effort,
            "cost_n": self.cost_n,
            "savings_n": self.savings_n,
            "measured_n": self.measured_n,
            "downtime_us": self.downtime_us,
            "observed_us": self.observed_us,
            "saved_by_day_us": columns(self.saved_by_day_us),
            "last_applied_s": self.last_applied_s,
            "backfilled": self.backfilled,
            "ai_calls": self.ai_calls,
            "ai_unpriced": self.ai_unpriced,
            "reviews": self.reviews,
            "review_effort_us": self.review_effort_us,
            "forfeited_us": self.forfeited_us,
            "baselines": self.baselines,
            "succeeded": self.succeeded,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any], first_day: int) -> PeriodTotals:
        """`first_day`: the period's first epoch day (for state older than dated rates)."""
        saved_us = raw["manual_succeeded_us"] - raw["human_effort_us"]  # no reviews then
        return cls(
            runs=Tally(raw["runs"]),
            manual_succeeded_us=raw["manual_succeeded_us"],
            human_effort_us=raw["human_effort_us"],
            runs_with_effort=raw["runs_with_effort"],
            cost_n=money(raw, "cost"),
            savings_n=money(raw, "savings"),
            measured_n=raw.get("measured_n", 0),
            downtime_us=Tally(raw["downtime_us"]),
            observed_us=Tally(raw["observed_us"]),
            saved_by_day_us=_saved_by_day(raw, "saved_by_day_us", first_day, saved_us),
            last_applied_s=raw.get("last_applied_s"),
            backfilled=raw.get("backfilled", 0),
            ai_calls=raw.get("ai_calls", 0),
            ai_unpriced=raw.get("ai_unpriced", 0),
            reviews=Tally(raw.get("reviews", {})),
            review_effort_us=raw.get("review_effort_us", 0),
            forfeited_us=raw.get("forfeited_us", 0),
            baselines=Tally(raw.get("baselines", {})),
            succeeded=Tally(raw.get("succeeded", {})),
        )


@dataclass
class LifetimeCounters:
    """The persisted §6 counters of one project, plus first/last event time."""

    runs: Counter[tuple[str, str]] = field(default_factory=Tally)
    """(automation, outcome) -> count; folded automations count under `other`."""
    manual_avoided_us: int = 0
    human_effort_us: int = 0
    cost_n: Counter[str] = field(default_factory=Tally)
    """Category -> money spent (the counter: credits are kept apart, so it never falls)."""
    credit_n: Counter[str] = field(default_factory=Tally)
    """Category -> credits and corrections (negative costs), as positive amounts."""
    savings_n: Counter[str] = field(default_factory=Tally)
    downtime_us: Counter[str] = field(default_factory=Tally)
    observed_us: Counter[str] = field(default_factory=Tally)
    saved_by_day_us: Counter[int] = field(default_factory=Tally)
    """Epoch day -> time saved that day (lifetime value at the rate of each day)."""
    first_event_s: float | None = None
    last_event_s: float | None = None
    last_received_s: float | None = None
    """Wall-clock time an event of the project was last applied (history imports too):
    staleness is judged by it, not by event times."""
    ai_tokens: Counter[tuple[str, str, str, str]] = field(default_factory=Tally)
    """(automation, provider, model, token type) -> tokens of model calls."""
    ai_calls: Counter[tuple[str, str]] = field(default_factory=Tally)
    """(provider, model) -> model calls."""
    ai_cost_n: Counter[tuple[str, str, str]] = field(default_factory=Tally)
    """(provider, model, price source) -> cost of priced calls (billionths)."""
    ai_unpriced: Counter[tuple[str, str]] = field(default_factory=Tally)
    """(provider, model) -> calls no price was found for (their tokens still count)."""
    reviews: Counter[tuple[str, str]] = field(default_factory=Tally)
    """(automation, verdict) -> reviews recorded (a replaced one stays counted here)."""
    forfeited_us: int = 0
    review_effort_us: int = 0
    """Manual time forfeited and review effort by the runs' current verdicts."""
    latest_input_s: dict[str, float] = field(default_factory=dict)
    """Input (`INPUT_OF`'s values) -> the latest event time of an event of that input: readiness
    asks whether each objective's inputs reported lately."""

    def note_input(self, kind: type[EventData], event_time_s: float) -> None:
        name = INPUT_OF[kind]
        if event_time_s > self.latest_input_s.get(name, _NEVER_S):
            self.latest_input_s[name] = event_time_s

    def add_usage(
        self,
        label: str,
        model: str,
        usage: AiUsage,
        priced: Priced,
        event_time_s: float,
    ) -> None:
        """Count one model call of automation `label` (`model`: its label after folding;
        `priced`: its cost, if any, and where that came from)."""
        cost, source = priced.cost, priced.source
        self.note_time(event_time_s)
        provider = usage.provider
        tokens = self.ai_tokens
        for kind, count in zip(TOKEN_TYPES, token_counts(usage), strict=True):
            if count is not None:
                key = (label, provider, model, kind)
                tokens[key] = tokens.get(key, 0) + count
        calls, model_key = self.ai_calls, (provider, model)
        calls[model_key] = calls.get(model_key, 0) + 1
        if cost is None or source is None:
            unpriced = self.ai_unpriced
            unpriced[model_key] = unpriced.get(model_key, 0) + 1
        else:
            priced_n, spent = self.ai_cost_n, self.cost_n
            cost_key = (provider, model, source)
            priced_n[cost_key] = priced_n.get(cost_key, 0) + cost
            spent[AI_COST_CATEGORY] = spent.get(AI_COST_CATEGORY, 0) + cost

    def add(self, data: EventData, label: str, micros: Micros, event_time_s: float) -> None:
        """Count a cost or savings (`micros`: its numbers; runs: `run_counts.count_run`)."""
        self.note_time(event_time_s)
        if type(data) is COST and micros[0] < 0:
            self.credit_n[data.category] -= micros[0]
        else:
            add_money(self, data, micros)

    @property
    def net_cost_n(self) -> int:
        return sum(self.cost_n.values()) - sum(self.credit_n.values())

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
        """The stored form, holding the live counters (as `PeriodTotals.to_json`); counters
        keyed by tuples or days as `columns`."""
        return {
            "runs": columns(self.runs),
            "manual_avoided_us": self.manual_avoided_us,
            "human_effort_us": self.human_effort_us,
            "cost_n": self.cost_n,
            "credit_n": self.credit_n,
            "savings_n": self.savings_n,
            "downtime_us": self.downtime_us,
            "observed_us": self.observed_us,
            "saved_by_day_us": columns(self.saved_by_day_us),
            "first_event_s": self.first_event_s,
            "last_event_s": self.last_event_s,
            "last_received_s": self.last_received_s,
            "ai_tokens": columns(self.ai_tokens),
            "ai_calls": columns(self.ai_calls),
            "ai_cost_n": columns(self.ai_cost_n),
            "ai_unpriced": columns(self.ai_unpriced),
            "reviews": columns(self.reviews),
            "forfeited_us": self.forfeited_us,
            "review_effort_us": self.review_effort_us,
            "latest_input_s": self.latest_input_s,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LifetimeCounters:
        saved_us = raw["manual_avoided_us"] - raw["human_effort_us"]
        first_day = epoch_day(raw["first_event_s"] or 0.0)
        return cls(
            runs=keyed(raw["runs"], 2),
            manual_avoided_us=raw["manual_avoided_us"],
            human_effort_us=raw["human_effort_us"],
            cost_n=money(raw, "cost"),
            credit_n=money(raw, "credit"),
            savings_n=money(raw, "savings"),
            downtime_us=Tally(raw["downtime_us"]),
            observed_us=Tally(raw["observed_us"]),
            saved_by_day_us=_saved_by_day(raw, "saved_by_day_us", first_day, saved_us),
            first_event_s=raw["first_event_s"],
            last_event_s=raw["last_event_s"],
            last_received_s=raw.get("last_received_s"),
            ai_tokens=keyed(raw.get("ai_tokens", ()), 4),
            ai_calls=keyed(raw.get("ai_calls", ()), 2),
            ai_cost_n=keyed(raw.get("ai_cost_n", ()), 3),
            ai_unpriced=keyed(raw.get("ai_unpriced", ()), 2),
            reviews=keyed(raw.get("reviews", ()), 2),
            forfeited_us=raw.get("forfeited_us", 0),
            review_effort_us=raw.get("review_effort_us", 0),
            latest_input_s=dict(raw.get("latest_input_s", {})),
        )
