"""Human review in the engine: a verdict decides whether a run's time saved counts, in
the run's period, replaced exactly, in either arrival order, across a restart; reviews
whose run never comes are dead-lettered `unmatched`; the acceptanceRate objective."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from collector.declarations.registry import DeclarationRegistry
from collector.engine.engine import Engine
from collector.engine.periods import parse_period_key
from collector.engine.settings import EngineSettings
from collector.state.sqlite import SqliteStore
from schemas.events import EventType
from schemas.snapshot import ProjectSnapshot
from tests.support.engines import FixedClock, feed, new_engine
from tests.support.events import NOW, make_event

MANUAL_S = 900.0


def run(run_id: str, **data: Any) -> Any:
    data = {"manual_duration_s": MANUAL_S, "human_effort_s": 0.0, **data}
    return make_event(EventType.RUN_FINISHED, event_id=run_id, **data)


def review(subject: str, verdict: str, minutes: float = 0, **data: Any) -> Any:
    time = data.pop("time", NOW - timedelta(hours=1) + timedelta(minutes=minutes))
    return make_event(
        EventType.REVIEW_RECORDED, subject=subject, verdict=verdict, time=time, **data
    )


def snap(engine: Engine, name: str = "ticket-triage") -> ProjectSnapshot:
    return next(p for p in engine.snapshot().projects if p.name == name)


def reviews(project: ProjectSnapshot) -> dict[str, int]:
    return {verdict: n for verdict, n in project.period.reviews if n}


def test_a_verdict_decides_whether_time_saved_counts() -> None:
    engine = new_engine()
    results = feed(
        engine,
        [
            run("r1"),
            run("r2"),
            run("r3"),
            run("r4", outcome="failed"),
            review("r1", "accepted"),
            review("r2", "edited", human_effort_s=120.0),
            review("r3", "rejected", human_effort_s=60.0),
            review("r4", "escalated"),  # a failed run saved nothing: nothing to forfeit
        ],
    )
    assert results == ["accepted"] * 8
    period = snap(engine).period
    # 3 succeeded × 900 − r3 forfeited 900 − review effort 180
    assert period.time_saved_s == 3 * MANUAL_S - MANUAL_S - 180.0
    assert period.forfeited_s == MANUAL_S
    assert period.review_effort_s == 180.0
    assert reviews(snap(engine)) == {"accepted": 1, "edited": 1, "rejected": 1, "escalated": 1}
    assert period.acceptance_ratio == 0.5
    assert period.review_coverage == 1.0
    counters = snap(engine).counters
    assert sum(n for _, _, n in counters.reviews) == 4


def test_a_later_verdict_replaces_the_earlier_exactly_in_either_arrival_order() -> None:
    ordered, reversed_ = new_engine(), new_engine()
    first = review("r1", "rejected", minutes=1, human_effort_s=300.0)
    later = review("r1", "accepted", minutes=2, human_effort_s=30.0)
    feed(ordered, [run("r1"), first, later])
    feed(reversed_, [later, run("r1"), first])  # the later verdict arrives first, run between
    for engine in (ordered, reversed_):
        period = snap(engine).period
        assert period.time_saved_s == MANUAL_S - 30.0
        assert period.forfeited_s == 0
        assert reviews(snap(engine)) == {"accepted": 1}
        assert snap(engine).reviews_pending == 0
    # the lifetime counter counts every review recorded
    assert sum(n for _, _, n in snap(ordered).counters.reviews) == 2


def test_a_review_before_its_run_waits_and_a_duplicate_counts_once() -> None:
    engine = new_engine()
    early = review("r9", "rejected")
    assert feed(engine, [early, early]) == ["accepted", "duplicate"]
    assert snap(engine).reviews_pending == 1
    assert snap(engine).period.time_saved_s == 0
    feed(engine, [run("r9")])
    assert snap(engine).reviews_pending == 0
    assert snap(engine).period.time_saved_s == 0  # its manual time forfeited on arrival
    assert snap(engine).period.forfeited_s == MANUAL_S


def test_a_review_of_another_projects_run_is_invalid() -> None:
    engine = new_engine()
    feed(engine, [run("r1", project="billing-bot")])
    assert feed(engine, [review("r1", "accepted")]) == ["invalid"]
    assert snap(engine, "billing-bot").period.review_coverage == 0.0


def test_a_review_applies_in_its_runs_period() -> None:
    now = NOW.replace(day=3)  # October still accepts events (7 days of grace)
    engine = new_engine(now)
    october, november = now.replace(month=10, day=31), now.replace(day=2)
    results = feed(engine, [run("r1", time=october), review("r1", "rejected", time=november)])
    assert results == ["accepted", "accepted"]
    october_view = engine.period_view("ticket-triage", parse_period_key("2026-10"))
    assert october_view.period.forfeited_s == MANUAL_S
    assert october_view.period.time_saved_s == 0
    assert snap(engine).period.forfeited_s == 0


def test_verdicts_and_pending_reviews_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    engine, store = new_engine(), SqliteStore(path)
    feed(engine, [run("r1"), review("r1", "rejected", minutes=1), review("r2", "accepted")])
    store.commit(engine.take_changes(), {}, {})
    store.close()

    again, store = new_engine(), SqliteStore(path)
    again.restore(store.load_all())
    assert snap(again).period.time_saved_s == 0
    assert snap(again).reviews_pending == 1
    # replacing the stored verdict takes back exactly what it took; the pending one applies
    feed(again, [review("r1", "accepted", minutes=2), run("r2")])
    assert snap(again).period.time_saved_s == 2 * MANUAL_S
    assert reviews(snap(again)) == {"accepted": 2}
    assert snap(again).reviews_pending == 0
    store.close()


def test_runs_stored_a_row_each_as_before_are_still_reviewed(tmp_path: Path) -> None:
    """State written before runs were stored flat (three items a run) holds a row a run:
    a restarted collector still knows those runs, and a review of one applies."""
    engine = new_engine()
    feed(engine, [run("r1"), run("r2")])
    changes = engine.take_changes()
    (batch,) = changes.runs
    name, run_id, month, _, outcome, manual_us = batch.runs[:6]
    assert (name, run_id, month, outcome, manual_us) == (
        "ticket-triage", "r1", changes.periods[0].key, "succeeded", 900_000_000)  # fmt: skip
    rows = [list(batch.runs[start : start + 6]) for start in range(0, len(batch.runs), 6)]
    old = replace(changes, runs=(batch._replace(runs=rows),))
    store = SqliteStore(tmp_path / "state.db")
    store.commit(old, {}, {})
    again = new_engine()
    again.restore(store.load_all())
    store.close()
    assert feed(again, [review("r2", "rejected")]) == ["accepted"]
    assert snap(again).period.time_saved_s == MANUAL_S
    assert reviews(snap(again)) == {"rejected": 1}


def test_a_review_whose_run_never_comes_is_dead_lettered_unmatched() -> None:
    clock = FixedClock()
    engine = Engine(EngineSettings(), clock)
    feed(engine, [review("lost", "accepted")])
    engine.forget_closed()
    assert engine.take_unmatched() == []
    clock.now = NOW.replace(month=12, day=9)  # November + 7 days of grace are over
    changes = engine.forget_closed()
    assert changes.forget_seen_before_s is not None
    [(partition, record, why)] = engine.take_unmatched()
    assert partition == 0
    assert json.loads(record.value)["data"]["subject"] == "lost"
    assert "no run 'lost'" in why
    assert snap(engine).reviews_pending == 0
    assert dict(engine.snapshot().health.rejected)["unmatched"] == 1


def test_acceptance_rate_is_judged_once_there_are_enough_reviews(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "apiVersion: outcomes/v1\nkind: Project\nmetadata: {name: ticket-triage}\n"
        "spec:\n  owner: sre\n  objectives: {acceptanceRate: 0.8}\n  guards: {minReviews: 4}\n"
    )
    result = DeclarationRegistry(tmp_path).reload()
    assert result.errors == ()
    engine = Engine(EngineSettings(), FixedClock(), result.catalog)
    feed(engine, [run(f"r{i}") for i in range(4)])
    feed(engine, [review(f"r{i}", "accepted") for i in range(3)])

    def target() -> Any:
        return next(t for t in snap(engine).targets if t.target == "acceptance_rate")

    assert target().status == "insufficient_data"  # 3 reviews < minReviews 4
    feed(engine, [review("r3", "rejected")])
    judged = target()
    assert judged.projected == 0.75
    # attainment as for success_rate: (1 − 0.8) / (1 − 0.75) = 0.8 → at_risk
    assert judged.attainment is not None and abs(judged.attainment - 0.8) < 1e-12
    assert judged.status == "at_risk"
