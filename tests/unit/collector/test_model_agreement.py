"""For random events and declarations, every target / project / portfolio value equals
what an independent implementation of docs/REFERENCE.md#formulas computes."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.declarations.registry import DeclarationRegistry
from collector.engine.engine import Engine
from collector.engine.settings import EngineSettings
from schemas.binding import format_time
from schemas.envelope import EventError, parse_event
from tests.support import model
from tests.support.engines import FixedClock

PROJECTS = ("alpha", "beta", "gamma")
money = st.integers(1, 50_000).map(lambda n: n / 100)
seconds = st.integers(0, 4 * 3600 * 1000).map(lambda n: n / 1000)
effort = st.one_of(st.just(0.0), st.integers(0, 600_000).map(lambda n: n / 1000))


@st.composite
def declarations(draw: st.DrawFn, name: str) -> dict[str, Any] | None:
    if draw(st.booleans()) and name == "gamma":
        return None
    objectives = {
        key: draw(strategy)
        for key, strategy in (
            ("uptime", st.sampled_from([0.5, 0.9, 0.99, 0.999, 1.0])),
            ("savings", st.sampled_from([50, 300, 1000, 5000])),
            ("timeSavedHours", st.sampled_from([0.5, 2, 5, 20])),
            ("roi", st.sampled_from([0.1, 0.5, 2, 20])),
            ("successRate", st.sampled_from([0.5, 0.7, 0.8, 0.95])),
        )
        if draw(st.booleans())
    }
    spec: dict[str, Any] = {
        "owner": "team-x",
        "period": draw(st.sampled_from(["month", "quarter"])),
        "objectives": objectives,
        "guards": {
            "minRuns": draw(st.integers(0, 3)),
            "minObservedHours": draw(st.sampled_from([0, 0.5, 1])),
            "minElapsed": draw(st.sampled_from([0, 0.1, 0.5])),
        },
    }
    if draw(st.booleans()):
        spec["hourlyRate"] = draw(st.sampled_from([0, 42.5, 100]))
    if draw(st.booleans()):
        spec["services"] = draw(st.sampled_from([["api"], ["db"], ["api", "db"]]))
    return {
        "apiVersion": "outcomes/v1",
        "kind": "Project",
        "metadata": {"name": name},
        "spec": spec,
    }


@st.composite
def events(draw: st.DrawFn, now: datetime) -> dict[str, Any]:
    back_s = draw(st.one_of(st.integers(-200, 15 * 86400), st.integers(0, 120 * 86400)))
    moment = now - timedelta(seconds=back_s)
    project = draw(st.sampled_from(PROJECTS))
    kind = draw(st.sampled_from(["run", "cost", "savings", "availability"]))
    event: dict[str, Any] = {"id": str(draw(st.integers(0, 400))), "source": "s", "time": moment}
    if kind == "run":
        event["type"] = "outcomes.run.finished"
        event["data"] = {
            "project": project, "automation": "a", "duration_s": 1.0,
            "outcome": draw(st.sampled_from(["succeeded"] * 6 + ["failed", "cancelled"])),
            "manual_duration_s": draw(seconds), "human_effort_s": draw(effort), "cost": draw(st.integers(1, 5000)) / 1000,
        }  # fmt: skip
    elif kind in ("cost", "savings"):
        event["type"] = f"outcomes.{'cost.incurred' if kind == 'cost' else 'savings.realized'}"
        event["data"] = {"project": project, "amount": draw(money)}
        event["data"].update(
            {"category": "other"} if kind == "cost" else {"category": "cloud", "basis": "b"}
        )
    else:
        length_us = draw(st.integers(1, 3600)) * 10**6
        down = draw(
            st.one_of(st.just(0.0), st.integers(0, length_us // 1000).map(lambda n: n / 1000))
        )
        event["type"] = "outcomes.availability.observed"
        event["data"] = {
            "project": project, "service": draw(st.sampled_from(["api", "db", "web"])),
            "window_start": format_time(moment - timedelta(microseconds=length_us)),
            "window_end": format_time(moment), "downtime_s": down,
        }  # fmt: skip
        event["data"]["length_us"] = length_us
    return event


def engine_with(declared: list[dict[str, Any]], now: datetime, directory: Path) -> Engine:
    for path in directory.glob("*.yaml"):
        path.unlink()
    (directory / "projects.yaml").write_text(yaml.safe_dump_all(declared))
    catalog = DeclarationRegistry(directory, Fraction(100)).reload().catalog
    return Engine(EngineSettings(), FixedClock(now), catalog)


@settings(
    max_examples=2000 if os.environ.get("OUTCOMES_DEEP") else 150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_targets_statuses_and_portfolio_agree_with_the_model(
    data: st.DataObject, tmp_path: Path
) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(
        seconds=data.draw(st.integers(0, 120 * 86400))
    )
    # the clock's month may be early (little elapsed) or late (projections settle)
    specs = {name: data.draw(declarations(name)) for name in PROJECTS}
    declared = [d for d in specs.values() if d is not None]
    engine = engine_with(declared, now, tmp_path)
    batch = data.draw(st.lists(events(now), max_size=60))
    for event in batch:
        wire = {k: v for k, v in event["data"].items() if k != "length_us"}
        attributes = {
            "specversion": "1.0",
            "id": event["id"],
            "source": "s",
            "type": event["type"],
            "time": format_time(event["time"]),
        }
        with contextlib.suppress(EventError):
            engine.apply(parse_event(attributes, wire), 0)

    kinds = {n: d["spec"]["period"] for n, d in specs.items() if d is not None}
    accepted = model.admit(batch, kinds, now).accepted
    snapshot = engine.snapshot()
    by_name = {p.name: p for p in snapshot.projects}
    statuses = []
    for name in PROJECTS:
        declaration = specs[name]
        spec = declaration["spec"] if declaration else {}
        mine = [e for e in accepted if e["data"]["project"] == name]
        if name not in by_name:
            assert spec == {} and mine == []
            continue
        facts = model.realized(mine, spec, now, Fraction(100))
        want = model.targets(spec, facts)
        got = {t.target: t for t in by_name[name].targets}
        assert set(got) == set(want)
        for target, (objective, projected, attainment, status) in want.items():
            result = got[target]
            assert result.objective == float(objective)
            assert result.projected == (None if projected is None else float(projected)), target
            assert result.attainment == (None if attainment is None else float(attainment)), target
            assert result.status == status, target
        status = model.project_status(spec, want)
        assert by_name[name].status == status
        statuses.append(status)
        assert by_name[name].period.value == float(facts["value"])
    counts = dict(snapshot.portfolio.projects)
    for status in ("met", "at_risk", "off_target", "insufficient_data", "unscoped"):
        assert counts[status] == statuses.count(status)
    judged = sum(statuses.count(s) for s in ("met", "at_risk", "off_target"))
    ratio = snapshot.portfolio.meeting_objectives_ratio
    assert ratio == (statuses.count("met") / judged if judged else None)
