"""Golden table for docs/REFERENCE.md#formulas targets: projection, attainment, guards, statuses."""

from __future__ import annotations

from fractions import Fraction as F  # noqa: N817

import pytest

from collector.engine.attainment import Realized, evaluate, meeting_ratio, project_status
from collector.engine.policy import Guards, Objectives
from schemas.snapshot import TargetResult

GUARDS = Guards(min_runs=20, min_observed_s=F(3600), min_elapsed=F(1, 10))


def realized(**overrides: object) -> Realized:
    values: dict[str, object] = {
        "elapsed": F(1, 2),
        "savings": F(0),
        "time_saved_s": F(0),
        "roi": None,
        "cost": F(0),
        "uptime": None,
        "observed_s": F(0),
        "success_rate": None,
        "decided_runs": 0,
    }
    values.update(overrides)
    return Realized(**values)  # type: ignore[arg-type]


def one(objectives: Objectives, facts: Realized, guards: Guards = GUARDS) -> TargetResult:
    (result,) = evaluate(objectives, guards, facts)
    return result


@pytest.mark.parametrize(
    ("objective", "savings", "elapsed", "projected", "attainment", "status"),
    [
        (F(20000), F(10000), F(1, 2), 20000.0, 1.0, "met"),  # exactly 1.0
        (F(20000), F(8000), F(1, 2), 16000.0, 0.8, "at_risk"),  # exactly 0.8
        (F(20000), F(7999), F(1, 2), 15998.0, 0.7999, "off_target"),
        (F(20000), F(0), F(1, 2), 0.0, 0.0, "off_target"),
        (F(20000), F(30000), F(1), 30000.0, 1.5, "met"),
        (F(20000), F(100), F(1, 20), 2000.0, None, "insufficient_data"),  # f < minElapsed
        (F(20000), F(100), F(1, 10), 1000.0, 0.05, "off_target"),  # f == minElapsed
    ],
)
def test_savings(
    objective: F, savings: F, elapsed: F, projected: float, attainment: float | None, status: str
) -> None:
    result = one(Objectives(savings=objective), realized(savings=savings, elapsed=elapsed))
    assert (result.target, result.objective) == ("savings", float(objective))
    assert (result.projected, result.attainment, result.status) == (projected, attainment, status)


def test_time_saved_in_seconds_and_negative() -> None:
    result = one(Objectives(time_saved_s=F(3600 * 400)), realized(time_saved_s=F(-7200)))
    assert (result.target, result.objective, result.projected) == (
        "time_saved",
        1440000.0,
        -14400.0,
    )
    assert result.attainment == -0.01
    assert result.status == "off_target"


def test_nothing_elapsed_means_no_projection() -> None:
    result = one(Objectives(savings=F(1)), realized(elapsed=F(0)), Guards(min_elapsed=F(0)))
    assert (result.projected, result.attainment, result.status) == (None, None, "insufficient_data")


@pytest.mark.parametrize(
    ("roi", "cost", "attainment", "status"),
    [
        (F(1, 2), F(100), 1.0, "met"),
        (F(2, 5), F(100), 0.8, "at_risk"),
        (F(-1), F(100), -2.0, "off_target"),
        (None, F(0), None, "insufficient_data"),  # cost 0: ROI undefined
        (F(3), F(-50), None, "insufficient_data"),  # credits exceed costs: cost <= 0
    ],
)
def test_roi(roi: F | None, cost: F, attainment: float | None, status: str) -> None:
    result = one(Objectives(roi=F(1, 2)), realized(roi=roi, cost=cost))
    assert result.projected == (None if roi is None else float(roi))
    assert (result.attainment, result.status) == (attainment, status)


@pytest.mark.parametrize(
    ("roi", "cost", "status"),
    [
        (F(0), F(100), "met"),  # exactly break-even
        (F(1, 10), F(100), "met"),
        (F(-1, 100), F(100), "off_target"),
        (None, F(0), "insufficient_data"),
        (F(-1), F(-50), "insufficient_data"),  # credits exceed costs: cost <= 0
    ],
)
def test_a_break_even_objective(roi: F | None, cost: F, status: str) -> None:
    """`roi: 0` (break even): no ratio to a zero objective exists, so no attainment; the
    sign of the realized ROI decides."""
    result = one(Objectives(roi=F(0)), realized(roi=roi, cost=cost))
    assert (result.objective, result.attainment, result.status) == (0.0, None, status)
    assert result.projected == (None if roi is None else float(roi))


def test_a_day_one_licence_cost_does_not_judge_roi() -> None:
    """A4: ROI -1 an hour into the month (a licence booked on day one) is too early to say."""
    early = realized(roi=F(-1), cost=F(12000), elapsed=F(1, 720))
    result = one(Objectives(roi=F(1, 2)), early)
    assert (result.objective, result.projected) == (0.5, -1.0)
    assert (result.attainment, result.status) == (None, "insufficient_data")


def test_insufficient_data_exports_no_attainment() -> None:
    """A3: savings 1000 forty minutes into a 30-day month would project 1.08M (attainment
    54): absent until minElapsed, while the objective and the projection stay."""
    forty_minutes = F(40, 30 * 24 * 60)
    result = one(Objectives(savings=F(20000)), realized(savings=F(1000), elapsed=forty_minutes))
    assert result.status == "insufficient_data" and result.attainment is None
    assert (result.objective, result.projected) == (20000.0, 1080000.0)


@pytest.mark.parametrize(
    ("uptime", "observed_s", "attainment", "status"),
    [
        (F(1), F(3600), 10.0, "met"),  # exactly 1 -> capped 10
        (F(999, 1000), F(3600), 1.0, "met"),
        (F(99875, 100000), F(3600), 0.8, "at_risk"),  # (1-.999)/(1-.99875) = 0.8 exactly
        (F(99, 100), F(3600), 0.1, "off_target"),
        (F(9999999, 10000000), F(3600), 10.0, "met"),  # 100 capped to 10
        (F(99, 100), F(3599), None, "insufficient_data"),  # < minObservedHours
        (None, F(0), None, "insufficient_data"),
    ],
)
def test_uptime(uptime: F | None, observed_s: F, attainment: float | None, status: str) -> None:
    result = one(Objectives(uptime=F(999, 1000)), realized(uptime=uptime, observed_s=observed_s))
    assert result.projected == (None if uptime is None else float(uptime))
    assert (result.attainment, result.status) == (attainment, status)


@pytest.mark.parametrize(
    ("rate", "runs", "status"),
    [(F(19, 20), 20, "met"), (F(19, 20), 19, "insufficient_data"), (F(9, 10), 40, "off_target")],
)
def test_success_rate_needs_min_runs(rate: F, runs: int, status: str) -> None:
    facts = realized(success_rate=rate, decided_runs=runs)
    result = one(Objectives(success_rate=F(95, 100)), facts)
    assert result.status == status


def _t(status: str) -> TargetResult:
    return TargetResult("savings", 1.0, None, None, status)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["met", "at_risk", "insufficient_data"], "at_risk"),
        (["met", "off_target", "at_risk"], "off_target"),
        (["met", "insufficient_data"], "met"),
        (["insufficient_data", "insufficient_data"], "insufficient_data"),
    ],
)
def test_project_status_is_the_worst_judged(statuses: list[str], expected: str) -> None:
    assert project_status(Objectives(savings=F(1)), [_t(s) for s in statuses]) == expected


def test_no_objectives_is_unscoped() -> None:
    assert project_status(Objectives(), []) == "unscoped"
    assert evaluate(Objectives(), GUARDS, realized()) == ()


def test_meeting_ratio() -> None:
    assert meeting_ratio({"met": 1, "at_risk": 1, "off_target": 2, "unscoped": 5}) == 0.25
    assert meeting_ratio({"unscoped": 3, "insufficient_data": 1}) is None
