"""Differential test: the real engine and state store against a from-scratch reference.

Hypothesis builds a history: batches of events (duplicates, re-sent and overlapping
windows, cancelled runs, events late within and beyond the grace window, in the future,
around month boundaries), the clock moving on between batches, declarations changing
mid-stream (month <-> quarter, plain and dated hourly rates, services) and restarts from
the SQLite store. Then every §6 value the engine exports — counters, current-period
gauges, targets, statuses, lifetime value and cost, and the previous period's restated
values — must equal what `tests.support.model` recomputes from the distinct raw events.

`make test` runs a bounded number of examples; `make test-deep` (OUTCOMES_DEEP=1) many more.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from collector.declarations.registry import DeclarationRegistry
from collector.engine.engine import Engine
from collector.engine.periods import PeriodKind, period_containing
from collector.engine.settings import EngineSettings
from collector.state.sqlite import SqliteStore
from schemas.binding import format_time
from schemas.envelope import EventError, parse_event
from schemas.snapshot import ProjectSnapshot
from tests.support import model
from tests.support.engines import FixedClock

EXAMPLES = 5000 if os.environ.get("OUTCOMES_DEEP") else 100
PROJECTS = ("alpha", "beta")
START = datetime(2026, 9, 20, tzinfo=UTC)
RATE = Fraction(100)
VERDICTS = ("accepted", "edited", "rejected", "escalated")


@st.composite
def declaration(draw: st.DrawFn, name: str) -> dict[str, Any] | None:
    if name == "beta" and draw(st.booleans()):
        return None  # undeclared: default month, rate and services
    objectives = {
        key: draw(values)
        for key, values in (
            ("uptime", st.sampled_from([0.9, 0.99, 0.999])),
            ("savings", st.sampled_from([50, 1000])),
            ("timeSavedHours", st.sampled_from([0.5, 5])),
            ("roi", st.sampled_from([0, 0.1, 2])),
            ("successRate", st.sampled_from([0.5, 0.95])),
            ("acceptanceRate", st.sampled_from([0.5, 0.9])),
        )
        if draw(st.booleans())
    }
    rates = draw(
        st.sampled_from([None, 42.5, 100, "dated-1", "dated-2"]),
    )
    spec: dict[str, Any] = {
        "owner": "o",
        "period": draw(st.sampled_from(["month", "quarter"])),
        "objectives": objectives,
        "guards": {
            "minRuns": draw(st.integers(0, 3)),
            "minObservedHours": 0.1,
            "minElapsed": draw(st.sampled_from([0, 0.1, 0.5])),
            "minReviews": draw(st.integers(0, 3)),
        },
    }
    if rates == "dated-1":
        spec["hourlyRate"] = [{"since": date(2026, 10, 1), "value": 80},
                              {"since": date(2026, 11, 15), "value": 120.5}]  # fmt: skip
    elif rates == "dated-2":
        spec["hourlyRate"] = [{"since": date(2026, 12, 1), "value": 10}]
    elif rates is not None:
        spec["hourlyRate"] = rates
    if draw(st.booleans()):
        spec["services"] = draw(st.sampled_from([["api"], ["api", "db"]]))
    return {"apiVersion": "outcomes/v1", "kind": "Project", "metadata": {"name": name},
            "spec": spec}  # fmt: skip


@st.composite
def moment(draw: st.DrawFn, now: datetime) -> datetime:
    """Mostly within the last 60 days; some around a month boundary; a few in the future."""
    choice = draw(st.sampled_from(["recent"] * 4 + ["boundary", "future"]))
    if choice == "future":
        return now + timedelta(minutes=draw(st.integers(-2, 20)))
    if choice == "boundary":
        month = period_containing(now - timedelta(days=draw(st.integers(0, 70))), PeriodKind.MONTH)
        return month.start + timedelta(minutes=draw(st.integers(-90, 90)))
    return now - timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))


@st.composite
def new_event(draw: st.DrawFn, now: datetime, serial: int) -> dict[str, Any]:
    at = draw(moment(now)).replace(second=0)
    project = draw(st.sampled_from(PROJECTS))
    kind = draw(
        st.sampled_from(["run", "run", "run", "review", "review", "cost", "savings", "window"])
    )
    # ids are few: the same (source, id) turns up for another project (not a duplicate)
    # and for the same one (a duplicate, whatever its content)
    event: dict[str, Any] = {
        "id": f"e{draw(st.integers(0, serial))}",
        "source": draw(st.sampled_from(["s", "t"])),
    }
    if kind == "run":
        data = {
            "project": project, "automation": draw(st.sampled_from(["a", "b"])),
            "outcome": draw(st.sampled_from(["succeeded", "succeeded", "failed", "cancelled"])),
            "manual_duration_s": draw(st.integers(0, 7200)) / 4,
            "human_effort_s": draw(st.sampled_from([0.0, 0.0, 30.5, 600.0, 9000.0])),
            "cost": draw(st.integers(0, 300)) / 100,
        }  # fmt: skip
        event.update(type="outcomes.run.finished", time=at, data=data)
    elif kind == "review":
        # of an earlier run, a later one (waits), another project's, or no run at all
        data = {
            "project": project, "automation": draw(st.sampled_from(["a", "b"])),
            "subject": f"e{draw(st.integers(0, serial + 3))}",
            "verdict": draw(st.sampled_from(VERDICTS)),
        }  # fmt: skip
        effort = draw(st.sampled_from([None, 0.0, 45.5, 300.0]))
        if effort is not None:
            data["human_effort_s"] = effort
        event.update(type="outcomes.review.recorded", time=at, data=data)
    elif kind in ("cost", "savings"):
        amount = draw(st.integers(1, 10_000)) / 100
        if kind == "cost" and draw(st.integers(0, 4)) == 0:
            amount = -amount  # a credit or a correction from a bill
        data = {"project": project, "amount": amount}
        data.update(
            {"category": draw(st.sampled_from(["licence", "other"]))}
            if kind == "cost"
            else {"category": "cloud", "basis": "b"}
        )
        event.update(type=f"outcomes.{'cost.incurred' if kind == 'cost' else 'savings.realized'}",
                     time=at, data=data)  # fmt: skip
    else:
        if draw(st.booleans()):  # most windows in the last few hours: they overlap
            at = now - timedelta(minutes=10 * draw(st.integers(0, 24)))
        end = at.replace(minute=at.minute // 10 * 10)  # a 10-minute grid: overlaps happen
        length = timedelta(minutes=draw(st.sampled_from([10, 20, 30, 60])))
        # now and then mistimed: an availability event's time must be its window's end
        mistimed = timedelta(minutes=draw(st.sampled_from([0] * 9 + [5])))
        event.update(type="outcomes.availability.observed", time=end + mistimed, data=window(
            project, draw(st.sampled_from(["api", "db"])), end, length,
            draw(st.integers(0, int(length.total_seconds()))) / 2 if draw(st.booleans()) else 0.0,
        ))  # fmt: skip
    return event


def window(
    project: str, service: str, end: datetime, length: timedelta, downtime_s: float
) -> dict[str, Any]:
    return {"project": project, "service": service, "window_start": format_time(end - length),
            "window_end": format_time(end), "downtime_s": min(downtime_s, length.total_seconds())}  # fmt: skip


@st.composite
def batch(
    draw: st.DrawFn, now: datetime, history: list[dict[str, Any]], serial: int
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for i in range(draw(st.integers(0, 14))):
        pick = draw(st.sampled_from(["new"] * 5 + ["duplicate", "resend", "review"]))
        earlier = history + events
        windows = [e for e in earlier if e["type"] == "outcomes.availability.observed"]
        runs = [e for e in earlier if e["type"] == "outcomes.run.finished"]
        if pick == "review" and runs:  # a verdict on an earlier run, some time after it
            run = draw(st.sampled_from(runs))
            at = min(now, run["time"] + timedelta(minutes=draw(st.integers(0, 60 * 24 * 3))))
            data = {"project": run["data"]["project"], "automation": run["data"]["automation"],
                    "subject": run["id"], "verdict": draw(st.sampled_from(VERDICTS))}  # fmt: skip
            if draw(st.booleans()):
                data["human_effort_s"] = draw(st.sampled_from([0.0, 45.5, 300.0]))
            events.append({"id": f"v{serial}-{i}", "source": "s", "time": at.replace(second=0),
                           "type": "outcomes.review.recorded", "data": data})  # fmt: skip
        elif pick == "duplicate" and earlier:
            events.append(draw(st.sampled_from(earlier)))  # the same event again
        elif pick == "resend" and windows:
            old = draw(st.sampled_from(windows))  # the same window, a new id and downtime
            data = dict(old["data"])
            length = datetime.fromisoformat(data["window_end"]) - datetime.fromisoformat(
                data["window_start"]
            )
            data["downtime_s"] = min(draw(st.integers(0, 600)) / 1, length.total_seconds())
            events.append({**old, "id": f"r{serial}-{i}", "data": data})
        else:
            events.append(draw(new_event(now, serial * 20 + i)))
    return events


def write_declarations(directory: Path, specs: dict[str, dict[str, Any] | None]) -> None:
    documents = [d for d in specs.values() if d is not None]
    (directory / "projects.yaml").write_text(yaml.safe_dump_all(documents))


def apply(engine: Engine, events: list[dict[str, Any]]) -> None:
    at = engine.instant()
    for event in events:
        attributes = {"specversion": "1.0", "id": event["id"], "source": event["source"],
                      "type": event["type"], "time": format_time(event["time"])}  # fmt: skip
        with contextlib.suppress(EventError):
            engine.apply(parse_event(attributes, dict(event["data"])), 0, at)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    report_multiple_bugs=False,
    # no shrinking: a history fails in seconds but shrinks for minutes; its draws are printed
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_engine_and_store_agree_with_the_reference(data: st.DataObject, tmp_path: Path) -> None:
    for leftover in tmp_path.iterdir():
        leftover.unlink()
    clock = FixedClock(START + timedelta(hours=data.draw(st.integers(0, 24 * 20))))
    specs = {name: data.draw(declaration(name)) for name in PROJECTS}
    write_declarations(tmp_path, specs)
    registry = DeclarationRegistry(tmp_path, RATE)
    store = SqliteStore(tmp_path / "state.db")
    engine = Engine(EngineSettings(), clock, registry.reload().catalog)
    history: list[dict[str, Any]] = []
    accepted: list[dict[str, Any]] = []
    reviews = model.Reviews()
    unmatched = expected_unmatched = 0
    seen: dict[tuple[str, str, str], datetime] = {}
    """(project, source, id) -> until when a copy is a duplicate: the end of its quarter
    plus the grace window (docs/REFERENCE.md#formulas), whatever the declaration says later."""
    for step in range(data.draw(st.integers(1, 5))):
        if step and data.draw(st.booleans()):  # a declaration changes mid-stream
            name = data.draw(st.sampled_from(PROJECTS))
            specs[name] = data.draw(declaration(name))
            write_declarations(tmp_path, specs)
            engine.policy = registry.reload().catalog
        if step and data.draw(st.booleans()):  # a restart from the store
            engine = Engine(EngineSettings(), clock, registry.reload().catalog)
            engine.restore(store.load_all())
        clock.now += timedelta(hours=data.draw(st.integers(0, 24 * 40)))
        events = data.draw(batch(clock.now, history, step))
        apply(engine, events)
        store.commit(engine.take_changes(), {}, {})
        store.commit(engine.forget_closed(), {}, {})
        unmatched += len(engine.take_unmatched())
        kinds = {n: d["spec"]["period"] for n, d in specs.items() if d is not None}
        for event in events:  # the reference admits at the batch's instant too
            verdict = model.admit([event], kinds, clock.now)
            key = (event["data"]["project"], event["source"], event["id"])
            if reviews.refuses(event):
                continue
            if verdict.accepted and seen.get(key, clock.now) <= clock.now:
                seen[key] = model.period_bounds(event["time"], "quarter")[1] + model.GRACE
                accepted.append(event)
                if event["type"] in ("outcomes.run.finished", "outcomes.review.recorded"):
                    reviews.apply(event, kinds.get(event["data"]["project"], "month"))
        expected_unmatched += reviews.forget(clock.now)
        history += events
    if data.draw(st.booleans()):
        engine = Engine(EngineSettings(), clock, registry.reload().catalog)
        engine.restore(store.load_all())
    store.close()

    assert unmatched == expected_unmatched
    snapshot = engine.snapshot()
    by_name = {p.name: p for p in snapshot.projects}
    verdicts = reviews.verdicts()
    statuses = []
    for name in PROJECTS:
        declared = specs[name]
        spec = declared["spec"] if declared else {}
        mine = [e for e in accepted if e["data"]["project"] == name]
        if name not in by_name:
            assert not spec and not mine
            continue
        got = by_name[name]
        check_counters(got, mine)
        facts = model.realized(mine, spec, clock.now, RATE, verdicts)
        check_period(got, facts)
        assert got.reviews_pending == reviews.pending_count(name)
        want = model.targets(spec, facts)
        assert {t.target: (t.objective, t.projected, t.attainment, t.status) for t in got.targets} == {
            target: tuple(None if v is None else v if isinstance(v, str) else float(v) for v in values)
            for target, values in want.items()
        }  # fmt: skip
        statuses.append(model.project_status(spec, want))
        assert got.status == statuses[-1]
        assert got.lifetime_value == float(lifetime_value(mine, spec, verdicts))
        assert got.lifetime_cost == float(sum(cost_of(e) for e in mine))
        previous = period_containing(got_period_start(got) - timedelta(days=1), got_kind(spec))
        if previous.end + timedelta(days=7) > clock.now:  # still restatable: its months are kept
            restated = engine.period_view(name, previous)
            check_period(restated, model.realized(mine, spec, previous.start, RATE, verdicts))
    counts = dict(snapshot.portfolio.projects)
    assert {s: counts[s] for s in counts if counts[s]} == dict(Counter(statuses))


def got_period_start(snap: ProjectSnapshot) -> datetime:
    return datetime.fromtimestamp(snap.period.start_s, tz=UTC)


def got_kind(spec: dict[str, Any]) -> PeriodKind:
    return PeriodKind(spec.get("period", "month"))


def check_period(got: ProjectSnapshot, facts: dict[str, Any]) -> None:
    period = got.period
    assert period.time_saved_s == float(facts["time_saved"])
    assert period.cost == float(facts["cost"])
    assert period.savings == float(facts["savings"])
    assert period.value == float(facts["value"])
    assert period.net_value == float(facts["value"] - facts["cost"])
    assert period.roi == (None if facts["roi"] is None else float(facts["roi"]))
    assert period.uptime == (None if facts["uptime"] is None else float(facts["uptime"]))
    assert period.success_ratio == (
        None if facts["success_rate"] is None else float(facts["success_rate"])
    )
    assert dict(period.reviews) == facts["reviews"]
    assert period.forfeited_s == float(facts["forfeited"])
    assert period.review_effort_s == float(facts["review_effort"])
    for got_ratio, want in (
        (period.acceptance_ratio, facts["acceptance_rate"]),
        (period.review_coverage, facts["review_coverage"]),
    ):
        assert got_ratio == (None if want is None else float(want))


def cost_of(event: dict[str, Any]) -> Fraction:
    if event["type"] == "outcomes.cost.incurred":
        return model.q(event["data"]["amount"])
    if event["type"] == "outcomes.run.finished":
        return model.q(event["data"]["cost"])
    return Fraction(0)


def lifetime_value(
    events: list[dict[str, Any]],
    spec: dict[str, Any],
    verdicts: dict[int, tuple[str, Fraction]],
) -> Fraction:
    value = Fraction(0)
    for event in events:
        data = event["data"]
        if event["type"] == "outcomes.savings.realized":
            value += model.q(data["amount"])
        elif event["type"] == "outcomes.run.finished":
            verdict, effort = verdicts.get(id(event), (None, Fraction(0)))
            kept = data["outcome"] == "succeeded" and verdict not in ("rejected", "escalated")
            saved = model.q(data["manual_duration_s"]) if kept else 0
            saved -= model.q(data["human_effort_s"]) + effort
            value += saved / 3600 * model.rate_on(spec, event["time"], RATE)
    return value


def check_counters(got: ProjectSnapshot, events: list[dict[str, Any]]) -> None:
    runs = [e["data"] for e in events if e["type"] == "outcomes.run.finished"]
    counters = got.counters
    assert counters.runs == tuple(sorted(
        (a, o, n) for (a, o), n in Counter((r["automation"], r["outcome"]) for r in runs).items()
    ))  # fmt: skip
    succeeded = [r for r in runs if r["outcome"] == "succeeded"]
    assert counters.manual_time_avoided_s == float(
        sum(model.q(r["manual_duration_s"]) for r in succeeded)
    )
    reviews = [e["data"] for e in events if e["type"] == "outcomes.review.recorded"]
    assert counters.human_effort_s == float(
        sum(model.q(r["human_effort_s"]) for r in runs)
        + sum(model.q(r.get("human_effort_s", 0)) for r in reviews)
    )
    assert counters.reviews == tuple(sorted(
        (a, v, n) for (a, v), n in Counter((r["automation"], r["verdict"]) for r in reviews).items()
    ))  # fmt: skip
    cost: dict[str, Fraction] = (
        {"run": sum((model.q(r["cost"]) for r in runs), Fraction(0))} if runs else {}
    )
    savings: dict[str, Fraction] = {}
    credits: dict[str, Fraction] = {}
    for event in events:
        category = event["data"].get("category")
        if event["type"] == "outcomes.cost.incurred":
            amount = model.q(event["data"]["amount"])
            if amount < 0:  # the counter never falls: credits are their own counter
                credits[category] = credits.get(category, Fraction(0)) - amount
            else:
                cost[category] = cost.get(category, Fraction(0)) + amount
        elif event["type"] == "outcomes.savings.realized":
            savings[category] = savings.get(category, Fraction(0)) + model.q(
                event["data"]["amount"]
            )
    assert dict(counters.cost) == {k: float(v) for k, v in cost.items()}
    assert dict(counters.credits) == {k: float(v) for k, v in credits.items()}
    assert dict(counters.savings) == {k: float(v) for k, v in savings.items()}
    windows = [
        {"service": e["data"]["service"], "start": datetime.fromisoformat(e["data"]["window_start"]),
         "end": e["time"], "downtime_s": e["data"]["downtime_s"]}
        for e in events if e["type"] == "outcomes.availability.observed"
    ]  # fmt: skip
    observed: dict[str, int] = {}
    downtime: dict[str, int] = {}
    for (_, service), pieces in model.window_pieces(windows).items():
        o, d = model.union_totals(pieces)
        observed[service] = observed.get(service, 0) + o
        downtime[service] = downtime.get(service, 0) + d
    assert dict(counters.observed_s) == {k: v / 10**6 for k, v in observed.items()}
    # a counter never decreases: a re-sent window with less downtime, or overlapping
    # windows that were each down, lower the period's loss, not the counter
    raw = Counter[str]()
    for w in windows:
        raw[w["service"]] += model.micros(w["downtime_s"])
    for service, seconds in counters.downtime_s:
        assert downtime[service] / 10**6 <= seconds <= raw[service] / 10**6
