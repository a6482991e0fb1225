"""Freezing engine accumulators into the immutable snapshot types of `schemas.snapshot`."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from collector.engine.aggregates import LifetimeCounters
from collector.engine.health import DelayHistogram, HealthCounters
from collector.engine.units import from_micros, from_money
from schemas.snapshot import HealthSnapshot, ProjectCounters


def _sorted_amounts(values: Counter[str]) -> tuple[tuple[str, float], ...]:
    return tuple((name, from_micros(micros)) for name, micros in sorted(values.items()))


def _sorted_money(values: Counter[str]) -> tuple[tuple[str, float], ...]:
    return tuple((name, from_money(amount)) for name, amount in sorted(values.items()))


def counters_snapshot(counters: LifetimeCounters) -> ProjectCounters:
    return ProjectCounters(
        runs=tuple((a, o, n) for (a, o), n in sorted(counters.runs.items())),
        manual_time_avoided_s=from_micros(counters.manual_avoided_us),
        human_effort_s=from_micros(counters.human_effort_us),
        cost=_sorted_money(counters.cost_n),
        credits=_sorted_money(counters.credit_n),
        savings=_sorted_money(counters.savings_n),
        downtime_s=_sorted_amounts(counters.downtime_us),
        observed_s=_sorted_amounts(counters.observed_us),
        since_s=counters.first_event_s,
        ai_tokens=tuple((*key, n) for key, n in sorted(counters.ai_tokens.items())),
        ai_calls=tuple((*key, n) for key, n in sorted(counters.ai_calls.items())),
        ai_cost=tuple((*key, from_money(n)) for key, n in sorted(counters.ai_cost_n.items())),
        ai_unpriced=tuple((*key, n) for key, n in sorted(counters.ai_unpriced.items())),
        reviews=tuple((*key, n) for key, n in sorted(counters.reviews.items())),
    )


def health_snapshot(
    version: str,
    health: HealthCounters,
    consumer_lag: tuple[tuple[str, int, int], ...],
    delay: DelayHistogram,
) -> HealthSnapshot:
    return replace(
        counters_health(version, health),
        consumer_lag=tuple(sorted(consumer_lag)),
        event_delay=delay.freeze(),
    )


def counters_health(version: str, health: HealthCounters) -> HealthSnapshot:
    """The persisted health counters alone (no lag, no delay histogram)."""
    return HealthSnapshot(
        version=version,
        events=tuple((t, r, n) for (t, r), n in sorted(health.events.items())),
        rejected=tuple(sorted(health.rejected.items())),
        label_overflow=tuple(sorted(health.overflow.items())),
        since_s=health.since_s or 0.0,
    )
