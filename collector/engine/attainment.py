"""docs/REFERENCE.md#formulas targets: projection, attainment, guards and statuses. Pure, exact.

All arithmetic is in fractions, so the 0.8 and 1.0 thresholds are compared exactly
and a value is rounded to float only when it leaves for a snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from collector.engine.policy import Guards, Objectives
from schemas.snapshot import PROJECT_STATUSES, TARGET_STATUSES, TargetResult

MET, AT_RISK, OFF_TARGET, INSUFFICIENT = TARGET_STATUSES
UNSCOPED = PROJECT_STATUSES[-1]
MAX_ATTAINMENT: Final = Fraction(10)
AT_RISK_FROM: Final = Fraction(4, 5)


@dataclass(frozen=True, slots=True)
class Realized:
    """Exact realized values of one project over one period (None = undefined)."""

    elapsed: Fraction
    savings: Fraction
    time_saved_s: Fraction
    roi: Fraction | None
    cost: Fraction
    uptime: Fraction | None
    observed_s: Fraction
    success_rate: Fraction | None
    decided_runs: int
    """Succeeded + failed: cancelled runs decide nothing about success (minRuns guard)."""
    acceptance_rate: Fraction | None = None
    reviewed_runs: int = 0
    """Runs with a verdict (minReviews guard)."""


def status_of(attainment: Fraction) -> str:
    if attainment >= 1:
        return MET
    return AT_RISK if attainment >= AT_RISK_FROM else OFF_TARGET


def _projected_total(realized: Fraction, elapsed: Fraction) -> Fraction | None:
    return None if elapsed == 0 else realized / elapsed


def _reliability(objective: Fraction, realized: Fraction | None) -> Fraction | None:
    if realized is None:
        return None
    if realized == 1:
        return MAX_ATTAINMENT
    return min(MAX_ATTAINMENT, (1 - objective) / (1 - realized))


def _result(
    target: str,
    objective: Fraction,
    projected: Fraction | None,
    attainment: Fraction | None,
    guarded: bool,
) -> TargetResult:
    """While a guard fails the attainment is absent (a leader must not read 50x from forty
    minutes of data); the objective and the projection stay."""
    if guarded:
        attainment = None
    status = INSUFFICIENT if attainment is None else status_of(attainment)
    return TargetResult(
        target=target,
        objective=float(objective),
        projected=None if projected is None else float(projected),
        attainment=None if attainment is None else float(attainment),
        status=status,
    )


def _break_even(roi: Fraction | None, guarded: bool) -> TargetResult:
    """`roi: 0`, a break-even objective: no ratio to it exists, so no attainment; met
    while the period pays for itself (roi >= 0), off_target otherwise."""
    status = INSUFFICIENT if guarded or roi is None else MET if roi >= 0 else OFF_TARGET
    projected = None if roi is None else float(roi)
    return TargetResult(
        target="roi", objective=0.0, projected=projected, attainment=None, status=status
    )


def evaluate(
    objectives: Objectives, guards: Guards, realized: Realized
) -> tuple[TargetResult, ...]:
    """One result per declared objective, in a fixed order."""
    results = []
    early = realized.elapsed < guards.min_elapsed
    for target, objective, value in (
        ("savings", objectives.savings, realized.savings),
        ("time_saved", objectives.time_saved_s, realized.time_saved_s),
    ):
        if objective is not None:
            projected = _projected_total(value, realized.elapsed)
            attainment = None if projected is None else projected / objective
            results.append(_result(target, objective, projected, attainment, early))
    if objectives.roi is not None:
        guarded = early or realized.cost <= 0  # a day-one licence must not judge the period
        if objectives.roi == 0:
            results.append(_break_even(realized.roi, guarded))
        else:
            attainment = None if realized.roi is None else realized.roi / objectives.roi
            results.append(_result("roi", objectives.roi, realized.roi, attainment, guarded))
    if objectives.uptime is not None:
        few_hours = realized.observed_s < guards.min_observed_s
        attainment = _reliability(objectives.uptime, realized.uptime)
        results.append(_result("uptime", objectives.uptime, realized.uptime, attainment, few_hours))
    if objectives.success_rate is not None:
        few_runs = realized.decided_runs < guards.min_runs
        attainment = _reliability(objectives.success_rate, realized.success_rate)
        results.append(
            _result(
                "success_rate", objectives.success_rate, realized.success_rate, attainment, few_runs
            )
        )
    if objectives.acceptance_rate is not None:
        few_reviews = realized.reviewed_runs < guards.min_reviews
        wanted, seen = objectives.acceptance_rate, realized.acceptance_rate
        attainment = _reliability(wanted, seen)
        results.append(_result("acceptance_rate", wanted, seen, attainment, few_reviews))
    return tuple(results)


def project_status(objectives: Objectives, targets: Sequence[TargetResult]) -> str:
    """Worst judged target; insufficient_data only when no target could be judged."""
    if objectives.is_empty():
        return UNSCOPED
    judged = {t.status for t in targets if t.status != INSUFFICIENT}
    for status in (OFF_TARGET, AT_RISK, MET):
        if status in judged:
            return status
    return INSUFFICIENT


def meeting_ratio(counts: dict[str, int]) -> float | None:
    judged = counts.get(MET, 0) + counts.get(AT_RISK, 0) + counts.get(OFF_TARGET, 0)
    return None if judged == 0 else counts.get(MET, 0) / judged
