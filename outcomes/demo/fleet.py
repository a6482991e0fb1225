"""A simulated fleet of automations that tells the product's story (the demo).

Each project's behaviour is fixed so that its status is the same whatever the day, from
about three days into a period (before, the few events so far can swing young numbers:
ROI has no elapsed-time guard, REFERENCE.md; costs and savings come in hourly-sized pieces to
keep that window short):
ticket-triage and cost-optimizer meet their objectives, incident-autoremediation is at
risk (17 of 18 runs succeed against a 95% objective), patch-rollout is clearly off target,
disk-cleanup has no declaration (unscoped) and capacity-planner went silent four days ago
(stalled). `history` produces the months before this one as a history import (the boards'
month over month), `backfill` the period so far; `next_event` keeps it going live with the
same proportions, so the live stream only firms up the picture.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from outcomes.sdk.events import new_event
from schemas.envelope import OutcomeEvent
from schemas.events import EventType

SOURCE = "demo/simulator"
HOURS = 24
HISTORY_MONTHS = 3
"""Calendar months before this one that `history` produces."""


@dataclass(frozen=True)
class SimulatedProject:
    name: str
    automations: tuple[str, ...]
    runs_per_day: float
    manual_s: float
    duration_s: float
    run_cost: float
    fail_every: int = 0
    """Every Nth run fails (0: never)."""
    effort_every: int = 0
    effort_s: float = 0.0
    savings_per_day: float = 0.0
    savings_each: float = 0.0
    savings_category: str = "cloud"
    savings_basis: str = "rightsizing: instance-hours before vs after (cloud bill)"
    savings_evidence: str = "measured"
    """Read off the bill (measured) or computed from an assumption (estimated)."""
    service: str | None = None
    outage_s_per_day: float = 0.0
    incident_s_per_day: float = 0.0
    """A daily incident of `service` this long (opened and resolved events): the incidents
    row of the boards. It does not change the windows-basis uptime of the project."""
    cost_per_day: float = 0.0
    """Licence, labour or compute outside runs, booked hourly (a 24th each hour) so that a
    young period's ROI is not swung by one daily lump; a multiple of 24 keeps it exact."""
    silent_for: timedelta | None = None
    backfill_from_quarter: bool = False
    accepted_every: int = 0
    """Every Nth run an on-call engineer reviews and accepts as is, a minute later: the
    human-review row of the boards (an acceptance changes no figure)."""


FLEET: tuple[SimulatedProject, ...] = (
    SimulatedProject("ticket-triage", ("classify", "route"), 40, 900, 4, 0.05,
                     fail_every=40, effort_every=10, effort_s=60, cost_per_day=300),
    SimulatedProject("cost-optimizer", ("rightsize",), 4, 1200, 30, 1.0,
                     fail_every=25, savings_per_day=24, savings_each=40.0, cost_per_day=384),
    SimulatedProject("incident-autoremediation", ("restart-pod", "failover"), 20, 1800, 45, 0.2,
                     fail_every=18, effort_every=4, effort_s=300,
                     service="servicedesk-api", outage_s_per_day=2, cost_per_day=480,
                     incident_s_per_day=120,
                     savings_per_day=1, savings_each=400.0, savings_category="incident",
                     savings_basis="P2 incidents auto-resolved x average incident cost",
                     savings_evidence="estimated",
                     accepted_every=5),
    SimulatedProject("patch-rollout", ("canary", "fleet"), 6, 3600, 600, 2.5,
                     fail_every=6, effort_every=3, effort_s=900, backfill_from_quarter=True,
                     cost_per_day=300),
    SimulatedProject("disk-cleanup", ("sweep",), 10, 600, 20, 0.01, cost_per_day=24),
    SimulatedProject("capacity-planner", ("forecast",), 3, 1800, 120, 0.5,
                     silent_for=timedelta(days=4), cost_per_day=96),
)  # fmt: skip


class FleetSimulator:
    def __init__(
        self,
        clock: Callable[[], datetime],
        seed: int = 7,
        fleet: tuple[SimulatedProject, ...] = FLEET,
    ) -> None:
        self._clock = clock
        self._seed = seed
        self._random = random.Random(seed)
        self._fleet = fleet
        self._runs = {p.name: itertools.count(1) for p in fleet}
        self._live = [p for p in fleet if p.silent_for is None]
        self._ids = itertools.count()
        self._reviewed = itertools.count(1)

    def backfill(self, period_start: datetime, quarter_start: datetime) -> list[OutcomeEvent]:
        """The period so far for every project, in time order."""
        now = self._clock()
        events: list[OutcomeEvent] = []
        for project in self._fleet:
            start = quarter_start if project.backfill_from_quarter else period_start
            end = now - project.silent_for if project.silent_for else now
            events.extend(self._history(project, start, end))
        return sorted(events, key=lambda e: e.time)

    def history(
        self, period_start: datetime, quarter_start: datetime, months: int = HISTORY_MONTHS
    ) -> list[OutcomeEvent]:
        """The `months` calendar months before `period_start` (up to where `backfill`
        starts) as a history import (`outcomesbackfill`), in time order. Drawn by a
        simulator of its own, so the period's events are the same with or without it."""
        first = period_start.replace(
            year=period_start.year + (period_start.month - 1 - months) // 12,
            month=(period_start.month - 1 - months) % 12 + 1,
        )
        past = FleetSimulator(self._clock, self._seed + 1, self._fleet)
        events: list[OutcomeEvent] = []
        for project in self._fleet:
            end = quarter_start if project.backfill_from_quarter else period_start
            events.extend(e._replace(backfill=True) for e in past._history(project, first, end))
        return sorted(events, key=lambda e: e.time)

    def _history(
        self, project: SimulatedProject, start: datetime, end: datetime
    ) -> Iterator[OutcomeEvent]:
        days = max(0.0, (end - start).total_seconds() / 86400)
        for _ in range(round(project.runs_per_day * days)):
            run = self._run(project, self._moment(start, end))
            yield run
            if project.accepted_every and next(self._reviewed) % project.accepted_every == 0:
                yield self._review(run, min(run.time + timedelta(minutes=1), end))
        for _ in range(round(project.savings_per_day * days)):
            yield self._savings(project, self._moment(start, end))
        hour = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        while hour <= end:
            if project.cost_per_day:
                yield self._cost(project, hour)
            if project.service:
                outage = project.outage_s_per_day if hour.hour == 3 else 0.0
                yield self._window(project, hour, outage)
                if project.incident_s_per_day and hour.hour == 3:
                    yield from self._incident(project, hour - timedelta(minutes=30))
            hour += timedelta(hours=1)

    def _moment(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self._random.random()

    def next_event(self) -> OutcomeEvent:
        """One live event, projects and kinds weighted by their daily rates (a day's cost
        comes in 24 hourly slices)."""
        weights = [p.runs_per_day + p.savings_per_day + HOURS for p in self._live]
        project = self._random.choices(self._live, weights)[0]
        now = self._clock()
        roll = self._random.random() * (project.runs_per_day + project.savings_per_day + HOURS)
        if roll < HOURS:
            return self._cost(project, now)
        if roll < HOURS + project.savings_per_day:
            return self._savings(project, now)
        return self._run(project, now)

    def _cost(self, project: SimulatedProject, time: datetime) -> OutcomeEvent:
        data = {
            "project": project.name,
            "amount": project.cost_per_day / HOURS,
            "category": "licence",
            "description": "hourly licence and platform share",
        }
        return self._event(EventType.COST_INCURRED, data, time)

    def _event(
        self, event_type: EventType, data: Mapping[str, object], time: datetime
    ) -> OutcomeEvent:
        return new_event(
            event_type,
            SOURCE,
            dict(data),
            event_id=f"demo-{next(self._ids)}-{self._random.getrandbits(32):x}",
            time=time,
        )

    def _run(self, project: SimulatedProject, time: datetime) -> OutcomeEvent:
        number = next(self._runs[project.name])
        failed = project.fail_every and number % project.fail_every == 0
        effort = (
            project.effort_s if project.effort_every and number % project.effort_every == 0 else 0.0
        )
        data = {
            "project": project.name,
            "automation": project.automations[number % len(project.automations)],
            "outcome": "failed" if failed else "succeeded",
            "duration_s": round(project.duration_s * self._random.uniform(0.5, 2.0), 3),
            "manual_duration_s": project.manual_s,
            "human_effort_s": effort,
            "cost": project.run_cost,
        }
        return self._event(EventType.RUN_FINISHED, data, time)

    def _review(self, run: OutcomeEvent, time: datetime) -> OutcomeEvent:
        data = {
            "project": run.project,
            "automation": run.data.automation,  # type: ignore[union-attr]
            "subject": run.id,
            "verdict": "accepted",
            "reviewer": "on-call",
        }
        # its own id and no draw from the random stream: the fleet's other events stay as
        # they were without reviews
        return new_event(EventType.REVIEW_RECORDED, SOURCE, data, event_id=f"{run.id}-review",
                         time=time)  # fmt: skip

    def _savings(self, project: SimulatedProject, time: datetime) -> OutcomeEvent:
        data = {
            "project": project.name,
            "amount": project.savings_each,
            "category": project.savings_category,
            "basis": project.savings_basis,
            "evidence": project.savings_evidence,
        }
        return self._event(EventType.SAVINGS_REALIZED, data, time)

    def _incident(self, project: SimulatedProject, start: datetime) -> Iterator[OutcomeEvent]:
        """An incident auto-remediated in `incident_s_per_day` seconds."""
        data = {
            "project": project.name,
            "service": project.service,
            "incident": f"INC-{start:%Y%m%d}",
            "title": "servicedesk-api pods crash-looping",
        }
        yield self._event(EventType.INCIDENT_OPENED, data, start)
        end = start + timedelta(seconds=project.incident_s_per_day)
        resolved = {**data, "resolved_by": "automation"}
        yield self._event(EventType.INCIDENT_RESOLVED, resolved, end)

    def _window(self, project: SimulatedProject, end: datetime, outage_s: float) -> OutcomeEvent:
        data = {
            "project": project.name,
            "service": project.service,
            "window_start": (end - timedelta(hours=1)).isoformat(),
            "window_end": end.isoformat(),
            "downtime_s": outage_s,
        }
        return self._event(EventType.AVAILABILITY_OBSERVED, data, end)
