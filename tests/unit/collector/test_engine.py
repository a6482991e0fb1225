from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from hashlib import blake2b
from pathlib import Path

import pytest

from collector.declarations.registry import DeclarationRegistry
from collector.engine.admission import Verdict
from collector.engine.engine import Engine
from collector.engine.periods import Period, PeriodKind, period_containing
from collector.engine.seen import legacy_digest
from collector.engine.settings import EngineSettings
from collector.state.model import LoadedState, SeenRow, seen_rows
from schemas.envelope import EventError, Reason
from schemas.events import EventType
from schemas.snapshot import ProjectSnapshot
from tests.support.engines import FixedClock, feed, new_engine
from tests.support.events import NOW, availability, make_event


def project(engine: Engine, name: str = "ticket-triage") -> ProjectSnapshot:
    return next(p for p in engine.snapshot().projects if p.name == name)


def test_counters_and_period_from_mixed_events() -> None:
    engine = new_engine()
    feed(
        engine,
        [
            make_event(manual_duration_s=900.0, cost=0.1),
            make_event(outcome="failed", human_effort_s=300.0, cost=0.2, automation="route"),
            make_event(EventType.COST_INCURRED, amount=100.0, category="licence"),
            make_event(EventType.SAVINGS_REALIZED, amount=250.0),
            availability(NOW, downtime_s=30.0),
        ],
    )
    snap = project(engine)
    assert snap.counters.runs == (("classify", "succeeded", 1), ("route", "failed", 1))
    assert snap.counters.manual_time_avoided_s == 900.0
    assert snap.counters.human_effort_s == 300.0
    assert snap.counters.cost == (("licence", 100.0), ("run", 0.3))
    assert snap.counters.savings == (("cloud", 250.0),)
    assert snap.counters.downtime_s == (("servicedesk-api", 30.0),)
    assert snap.counters.observed_s == (("servicedesk-api", 300.0),)
    period = snap.period
    assert period.key == "2026-11"
    assert period.time_saved_s == 600.0
    assert period.cost == 100.3
    assert period.value == 250.0 + 600 / 3600 * 100
    assert period.success_ratio == 0.5
    assert period.intervention_ratio == 0.5
    assert period.uptime == 0.9
    assert snap.last_event_time_s == NOW.timestamp()


def test_duplicates_count_once() -> None:
    engine = new_engine()
    event = make_event(event_id="same")
    assert feed(engine, [event, event, make_event(event_id="same", source="other")]) == [
        "accepted",
        "duplicate",
        "accepted",
    ]
    assert project(engine).period.runs[0] == ("succeeded", 2)
    assert ("outcomes.run.finished", "duplicate", 1) in engine.snapshot().health.events


@pytest.mark.parametrize(
    ("time", "reason"),
    [
        (NOW + timedelta(minutes=6), "future"),
        (NOW - timedelta(days=60), "too_late"),
    ],
)
def test_time_rejections(time: object, reason: str) -> None:
    engine = new_engine()
    assert feed(engine, [make_event(time=time)]) == [reason]  # type: ignore[arg-type]
    assert engine.snapshot().projects == ()
    assert engine.snapshot().health.rejected == ((reason, 1),)


def test_late_event_within_grace_restates_the_closed_period() -> None:
    engine = new_engine(now=NOW.replace(day=3))
    october = NOW.replace(month=10, day=31)
    assert feed(engine, [make_event(time=october)]) == ["accepted"]
    snap = project(engine)
    assert snap.period.key == "2026-11"
    assert snap.period.runs[0] == ("succeeded", 0)
    assert snap.counters.runs == (("classify", "succeeded", 1),)
    changed = engine.take_changes()
    assert [row.key for row in changed.periods] == ["2026-10"]


def test_future_tolerance_is_five_minutes() -> None:
    engine = new_engine()
    assert feed(engine, [make_event(time=NOW + timedelta(minutes=5))]) == ["accepted"]
    later = NOW + timedelta(minutes=5, microseconds=1)
    assert feed(engine, [make_event(time=later, event_id="later")]) == ["future"]


def test_a_period_stays_open_for_exactly_the_grace_window() -> None:
    october = NOW.replace(month=10, day=20)
    november_1 = datetime(2026, 11, 1, tzinfo=UTC)
    just_open = new_engine(now=november_1 + timedelta(days=7, microseconds=-1))
    assert feed(just_open, [make_event(time=october)]) == ["accepted"]
    closed = new_engine(now=november_1 + timedelta(days=7))
    assert feed(closed, [make_event(time=october)]) == ["too_late"]


def test_events_either_side_of_a_month_boundary_land_in_their_own_months() -> None:
    # the engine keeps the month of the previous event: alternating months in one batch,
    # to the microsecond and in another timezone, must still land where they belong
    november_1 = datetime(2026, 11, 1, tzinfo=UTC)
    engine = new_engine(now=november_1 + timedelta(days=2))
    at = engine.instant()
    plus_two = timezone(timedelta(hours=2))
    moments = [
        november_1 - timedelta(microseconds=1),  # October
        november_1,  # November
        datetime(2026, 11, 1, 1, 59, 59, 999_999, tzinfo=plus_two),  # October in UTC
        datetime(2026, 11, 1, 2, 0, tzinfo=plus_two),  # November in UTC
        november_1 + timedelta(microseconds=1),  # November
        november_1 - timedelta(days=1),  # October
    ]
    for index, moment in enumerate(moments):
        engine.apply(make_event(time=moment, event_id=f"edge-{index}"), 0, at)
    months = {row.key: row.totals["runs"]["succeeded"] for row in engine.take_changes().periods}
    assert months == {"2026-10": 3, "2026-11": 3}


def test_a_batch_is_judged_at_its_instant_not_when_each_event_is_applied() -> None:
    clock = FixedClock(NOW)
    engine = Engine(EngineSettings(), clock)
    at = engine.instant()
    clock.now = NOW + timedelta(hours=1)  # the batch took long; its events still count at NOW
    soon = make_event(time=NOW + timedelta(minutes=30))
    with pytest.raises(EventError) as rejected:
        engine.apply(soon, 0, at)
    assert rejected.value.reason is Reason.FUTURE
    assert engine.apply(make_event(), 0, at) is Verdict.ACCEPTED
    assert engine.apply(soon, 0) is Verdict.ACCEPTED  # a new instant: no longer in the future


def test_currency_must_match() -> None:
    engine = new_engine(currency="EUR")
    results = feed(
        engine,
        [
            make_event(EventType.COST_INCURRED, currency="USD"),
            make_event(EventType.COST_INCURRED, currency="EUR"),
            make_event(EventType.COST_INCURRED),
        ],
    )
    assert results == ["currency", "accepted", "accepted"]


def test_automation_cardinality_folds_into_other_and_counts() -> None:
    engine = new_engine(max_automations_per_project=2)
    feed(engine, [make_event(automation=f"a{i}") for i in range(5)])
    snap = engine.snapshot()
    runs = snap.projects[0].counters.runs
    assert runs == (("a0", "succeeded", 1), ("a1", "succeeded", 1), ("other", "succeeded", 3))
    assert snap.health.label_overflow == (("automation", 3),)


def test_period_rolls_over_with_the_clock() -> None:
    clock = FixedClock(NOW)
    engine = Engine(new_engine().settings, clock)
    feed(engine, [make_event()])
    assert project(engine).period.runs[0] == ("succeeded", 1)
    clock.now = NOW.replace(month=12, day=1, hour=0)
    rolled = project(engine).period
    assert rolled.key == "2026-12"
    assert rolled.runs[0] == ("succeeded", 0)


def test_restore_from_changes_reproduces_the_snapshot() -> None:
    engine = new_engine()
    event = make_event(event_id="x")
    feed(engine, [event, make_event(EventType.SAVINGS_REALIZED), availability(NOW)])
    changes = engine.take_changes()
    restored = new_engine()
    restored.restore(
        LoadedState(
            changes.projects, changes.periods, seen_rows(changes.seen), dict(changes.health)
        )
    )
    assert restored.snapshot().projects == engine.snapshot().projects
    assert feed(restored, [event]) == ["duplicate"]


def test_forget_closed_drops_seen_after_its_quarter_and_grace() -> None:
    clock = FixedClock(NOW)
    engine = Engine(new_engine().settings, clock)
    feed(engine, [make_event(event_id="old")])
    clock.now = datetime(2027, 1, 7, 23, tzinfo=UTC)  # Q4 ended, grace not yet over
    assert engine.forget_closed().forget_seen_before_s is None
    assert engine.seen_count() == 1
    clock.now = datetime(2027, 1, 8, tzinfo=UTC)
    assert engine.forget_closed().forget_seen_before_s == clock.now.timestamp()
    assert engine.seen_count() == 0


def test_a_switch_from_month_to_quarter_does_not_readmit_a_duplicate(tmp_path: Path) -> None:
    """D1: a January event, the declaration switched to quarterly on February 9, the same
    event re-sent on March 1: still a duplicate (Q1 savings are not doubled)."""
    declaration = tmp_path / "p.yaml"
    text = "apiVersion: outcomes/v1\nkind: Project\nmetadata: {name: ticket-triage}\n"
    declaration.write_text(text + "spec: {owner: o, period: month}\n")
    registry = DeclarationRegistry(tmp_path)
    clock = FixedClock(datetime(2026, 1, 20, tzinfo=UTC))
    engine = Engine(new_engine().settings, clock, registry.reload().catalog)
    saving = make_event(EventType.SAVINGS_REALIZED, event_id="jan", amount=1000.0,
                        time=datetime(2026, 1, 15, tzinfo=UTC))  # fmt: skip
    assert feed(engine, [saving]) == ["accepted"]
    clock.now = datetime(2026, 2, 9, tzinfo=UTC)
    engine.forget_closed()
    declaration.write_text(text + "spec: {owner: o, period: quarter}\n")
    engine.policy = registry.reload().catalog
    clock.now = datetime(2026, 3, 1, tzinfo=UTC)
    engine.forget_closed()
    assert feed(engine, [saving]) == ["duplicate"]
    assert project(engine).period.savings == 1000.0


def test_quarter_sums_its_months_and_rolls_over(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "apiVersion: outcomes/v1\nkind: Project\nmetadata: {name: ticket-triage}\n"
        "spec: {owner: o, period: quarter}\n"
    )
    catalog = DeclarationRegistry(tmp_path).reload().catalog
    clock = FixedClock(datetime(2026, 12, 31, 23, tzinfo=UTC))
    engine = Engine(new_engine().settings, clock, catalog)
    feed(engine, [make_event(time=datetime(2026, m, 5, tzinfo=UTC)) for m in (9, 10, 11, 12)])
    quarter = project(engine).period
    assert (quarter.key, quarter.runs[0]) == ("2026-Q4", ("succeeded", 3))
    clock.now = datetime(2027, 1, 1, tzinfo=UTC)
    rolled = project(engine).period
    assert (rolled.key, rolled.runs[0]) == ("2027-Q1", ("succeeded", 0))


def test_declared_projects_count_before_their_first_event(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "apiVersion: outcomes/v1\nkind: Project\nmetadata: {name: quiet}\n"
        "spec: {owner: o, objectives: {savings: 10}}\n"
    )
    catalog = DeclarationRegistry(tmp_path).reload().catalog
    engine = Engine(new_engine().settings, FixedClock(NOW), catalog)
    snap = engine.snapshot()
    assert [(p.name, p.status, p.info.declared) for p in snap.projects] == [
        ("quiet", "off_target", True)
    ]
    assert dict(snap.portfolio.projects)["off_target"] == 1


def test_undeclared_projects_beyond_the_limit_fold_into_other() -> None:
    engine = new_engine(max_projects=2)
    feed(engine, [make_event(project=f"p{i}") for i in range(5)])
    snap = engine.snapshot()
    assert [p.name for p in snap.projects] == ["other", "p0", "p1"]
    assert dict(snap.health.label_overflow) == {"project": 3}
    other = next(p for p in snap.projects if p.name == "other")
    assert other.period.runs[0] == ("succeeded", 3)


def test_cancelled_runs_decide_nothing_about_success(tmp_path: Path) -> None:
    """A2: 19 cancelled runs and 1 failed are one decided run, below minRuns (20): the
    success-rate target has insufficient data, no attainment, its objective still shown."""
    (tmp_path / "p.yaml").write_text(
        "apiVersion: outcomes/v1\nkind: Project\nmetadata: {name: ticket-triage}\n"
        "spec: {owner: o, objectives: {successRate: 0.95}}\n"
    )
    catalog = DeclarationRegistry(tmp_path).reload().catalog
    engine = Engine(new_engine().settings, FixedClock(NOW), catalog)
    runs = [make_event(outcome="cancelled", event_id=f"c{i}") for i in range(19)]
    feed(engine, [*runs, make_event(outcome="failed", event_id="f")])
    (target,) = project(engine).targets
    assert (target.target, target.objective, target.projected) == ("success_rate", 0.95, 0.0)
    assert (target.attainment, target.status) == (None, "insufficient_data")


def test_a_declared_service_never_folds_into_other(tmp_path: Path) -> None:
    """D3: with a limit of one service, an undeclared service seen first takes the slot;
    the declared service keeps its own series and its exact uptime."""
    (tmp_path / "p.yaml").write_text(
        "apiVersion: outcomes/v1\nkind: Project\nmetadata: {name: ticket-triage}\n"
        "spec: {owner: o, services: [servicedesk-api], objectives: {uptime: 0.99},"
        " guards: {minObservedHours: 0.1}}\n"
    )
    catalog = DeclarationRegistry(tmp_path).reload().catalog
    engine = Engine(new_engine(max_services_per_project=1).settings, FixedClock(NOW), catalog)
    hour = timedelta(hours=1)
    feed(engine, [availability(NOW - 2 * hour, length=hour, service="cache", downtime_s=600.0)])
    feed(
        engine, [availability(NOW - hour, length=hour, service="servicedesk-api", downtime_s=36.0)]
    )
    feed(engine, [availability(NOW, length=hour, service="queue", downtime_s=0.0)])
    snap = project(engine)
    assert dict(snap.counters.downtime_s) == {"cache": 600.0, "servicedesk-api": 36.0, "other": 0.0}
    assert snap.period.uptime == 0.99  # 1 - 36/3600: the declared service alone
    (target,) = snap.targets
    assert (target.target, target.status, target.attainment) == ("uptime", "met", 1.0)


RATES = (
    "apiVersion: outcomes/v1\nkind: Project\nmetadata: {{name: ticket-triage}}\n"
    "spec:\n  owner: o\n  hourlyRate: {rates}\n"
)


def test_a_dated_rate_values_each_run_at_the_rate_of_its_day(tmp_path: Path) -> None:
    """A5: two runs an hour apart across a rate change (100 -> 400 on December 1), each
    saving half an hour: 50 + 200, in the period, in lifetime value, and after a reload
    of the same declaration or a restart; the rate in force now is exported."""
    (tmp_path / "p.yaml").write_text(
        RATES.format(rates="[{since: 2026-01-01, value: 100}, {since: 2026-12-01, value: 400}]")
    )
    registry = DeclarationRegistry(tmp_path)
    clock = FixedClock(datetime(2026, 12, 1, 0, 40, tzinfo=UTC))
    engine = Engine(new_engine().settings, clock, registry.reload().catalog)
    before, after = (
        datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
        datetime(2026, 12, 1, 0, 30, tzinfo=UTC),
    )
    feed(engine, [
        make_event(event_id="nov", time=before, manual_duration_s=1800.0, human_effort_s=0.0, cost=0.0),
        make_event(event_id="dec", time=after, manual_duration_s=1800.0, human_effort_s=0.0, cost=0.0),
    ])  # fmt: skip
    snap = project(engine)
    assert (snap.period.key, snap.period.value, snap.lifetime_value) == ("2026-12", 200.0, 250.0)
    assert engine.period_view("ticket-triage", _month(before)).period.value == 50.0
    assert snap.info.hourly_rate == 400.0
    assert snap.period.hourly_rates == ((datetime(2026, 12, 1, tzinfo=UTC).timestamp(), 400.0),)

    restarted = Engine(new_engine().settings, clock, registry.reload().catalog)
    restarted.restore(_loaded(engine))
    assert project(restarted).lifetime_value == 250.0


def test_a_plain_rate_changed_later_revalues_like_one_list_entry(tmp_path: Path) -> None:
    """A plain number is in force on every day; replacing it by a dated list that starts
    with the old number keeps every past run's value."""
    (tmp_path / "p.yaml").write_text(RATES.format(rates="100"))
    registry = DeclarationRegistry(tmp_path)
    clock = FixedClock(datetime(2026, 12, 10, tzinfo=UTC))
    engine = Engine(new_engine().settings, clock, registry.reload().catalog)
    feed(engine, [make_event(event_id="a", time=datetime(2026, 12, 2, tzinfo=UTC),
                             manual_duration_s=3600.0, human_effort_s=0.0)])  # fmt: skip
    (tmp_path / "p.yaml").write_text(
        RATES.format(rates="[{since: 2026-01-01, value: 100}, {since: 2026-12-05, value: 150}]")
    )
    engine.policy = registry.reload().catalog
    feed(engine, [make_event(event_id="b", time=datetime(2026, 12, 9, tzinfo=UTC),
                             manual_duration_s=3600.0, human_effort_s=0.0)])  # fmt: skip
    snap = project(engine)
    assert (snap.period.value, snap.lifetime_value, snap.info.hourly_rate) == (250.0, 250.0, 150.0)
    assert [rate for _, rate in snap.period.hourly_rates] == [100.0, 150.0]


def _month(moment: datetime) -> Period:
    return period_containing(moment, PeriodKind.MONTH)


def _loaded(engine: Engine, before: LoadedState | None = None) -> LoadedState:
    """What a store would hold after `engine`'s changes (on top of `before`)."""
    changes = engine.take_changes()
    projects = {row.project: row for row in (before.projects if before else ())}
    projects.update({row.project: row for row in changes.projects})
    periods = {(row.project, row.key): row for row in (before.periods if before else ())}
    periods.update({(row.project, row.key): row for row in changes.periods})
    return LoadedState(
        tuple(projects.values()),
        tuple(periods.values()),
        (*(before.seen if before else ()), *seen_rows(changes.seen)),
        windows=(*(before.windows if before else ()), *changes.windows),
    )


def test_windows_re_sent_or_nested_count_once() -> None:
    """One hour with 6 minutes down, a nested half hour with 3 minutes down, the same hour
    re-sent with 3 minutes down: observed is the hour, downtime min(3 + 3 min, 1 h)."""
    engine = new_engine()
    hour = timedelta(hours=1)
    end = NOW - hour
    feed(engine, [
        availability(end, length=hour, service="api", downtime_s=360.0, event_id="w1"),
        availability(end - timedelta(minutes=10), length=hour / 2, service="api", downtime_s=180.0),
        availability(end, length=hour, service="api", downtime_s=180.0, event_id="w1-again"),
    ])  # fmt: skip
    snap = project(engine)
    assert snap.period.observed_s == 3600.0
    assert snap.period.uptime == 1 - 360 / 3600
    assert dict(snap.counters.observed_s) == {"api": 3600.0}
    # the counter never decreases: the re-sent window's lower downtime shows in uptime only
    assert dict(snap.counters.downtime_s) == {"api": 540.0}


def test_a_window_across_a_month_boundary_is_split_pro_rata() -> None:
    """20 minutes before midnight on Nov 30 and 40 after, 90 s down: 30 s in November,
    60 s in December; each month observes its own part."""
    midnight = datetime(2026, 12, 1, tzinfo=UTC)
    engine = new_engine(now=midnight + timedelta(hours=2))
    feed(engine, [availability(midnight + timedelta(minutes=40), length=timedelta(hours=1),
                               service="api", downtime_s=90.0)])  # fmt: skip
    december = project(engine).period
    november = engine.period_view("ticket-triage", _month(midnight - timedelta(days=1))).period
    assert (november.observed_s, november.uptime) == (1200.0, 1 - 30 / 1200)
    assert (december.observed_s, december.uptime) == (2400.0, 1 - 60 / 2400)


def test_windows_survive_a_restart_and_are_still_replaced() -> None:
    engine = new_engine()
    hour = timedelta(hours=1)
    feed(engine, [availability(NOW, length=hour, service="api", downtime_s=360.0, event_id="a")])
    restarted = new_engine()
    restarted.restore(_loaded(engine))
    feed(restarted, [availability(NOW, length=hour, service="api", downtime_s=0.0, event_id="b")])
    feed(restarted, [availability(NOW, length=hour / 2, service="api", downtime_s=0.0)])
    assert (project(restarted).period.observed_s, project(restarted).period.uptime) == (3600.0, 1.0)


def test_windows_counted_before_they_were_kept_one_by_one_stay_counted() -> None:
    """State from before this version holds sums only: they stay as a base under new windows."""
    engine = new_engine()
    hour = timedelta(hours=1)
    feed(engine, [availability(NOW - 2 * hour, length=hour, service="api", downtime_s=36.0)])
    old = _loaded(engine)
    restarted = new_engine()
    restarted.restore(LoadedState(old.projects, old.periods, old.seen))  # no window rows
    feed(restarted, [availability(NOW, length=hour, service="api", downtime_s=0.0)])
    snap = project(restarted)
    assert (snap.period.observed_s, snap.period.uptime) == (7200.0, 1 - 36 / 7200)
    again = new_engine()
    again.restore(_loaded(restarted, old))
    assert project(again).period.uptime == 1 - 36 / 7200


def test_duplicates_are_per_project() -> None:
    """The same (source, id) for two projects is two events; state from before this
    version (digests of source and id only) still recognises its duplicates."""
    engine = new_engine()
    first, second = (
        make_event(event_id="1", project="alpha"),
        make_event(event_id="1", project="beta"),
    )
    assert feed(engine, [first, second, first]) == ["accepted", "accepted", "duplicate"]
    legacy = new_engine()
    legacy.restore(LoadedState(seen=(SeenRow(legacy_digest("s", "7"), 0, NOW.timestamp() + 86400),),
                               legacy_seen_until_s=NOW.timestamp() + 86400))  # fmt: skip
    old = make_event(event_id="7", source="s", project="alpha")
    assert feed(legacy, [old]) == ["duplicate"]
    # the digests stored state holds: BLAKE2b-128 of "project NUL source NUL id", however made
    stored = SeenRow(
        blake2b(b"alpha\0s\0eight", digest_size=16).digest(), 0, NOW.timestamp() + 86400
    )
    kept = new_engine()
    kept.restore(LoadedState(seen=(stored,)))
    assert feed(kept, [make_event(event_id="eight", source="s", project="alpha")]) == ["duplicate"]


def test_staleness_is_judged_by_receipt_not_by_event_time() -> None:
    """A history import of events two years old is received now: not silence."""
    engine = new_engine()
    old = make_event(time=NOW - timedelta(days=794))._replace(backfill=True)
    assert feed(engine, [old]) == ["accepted"]
    snap = project(engine)
    assert snap.last_event_time_s == (NOW - timedelta(days=794)).timestamp()
    assert snap.last_received_s == NOW.timestamp()
    restored = new_engine()
    restored.restore(LoadedState(projects=tuple(engine.take_changes().projects)))
    assert project(restored).last_received_s == NOW.timestamp()
