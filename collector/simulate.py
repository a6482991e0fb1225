"""A simulated fleet of automations emitting outcome events (for the demo and tests).

`FleetSimulator.next_event()` is deterministic for a given seed and clock, so tests
can reproduce a stream; `send()` produces it to Kafka in binary mode, key = project.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.envelope import OutcomeEvent
from schemas.events import (
    AvailabilityObserved,
    CostIncurred,
    EventType,
    RunFinished,
    SavingsRealized,
)


@dataclass(frozen=True)
class SimulatedProject:
    name: str
    automations: tuple[str, ...]
    success_rate: float
    manual_s: float
    duration_s: float
    effort_s: float
    effort_share: float
    run_cost: float
    savings_per_event: float = 0.0
    service: str | None = None
    downtime_share: float = 0.0


FLEET: tuple[SimulatedProject, ...] = (
    SimulatedProject("ticket-triage", ("classify", "route"), 0.97, 900, 4, 60, 0.1, 0.05),
    SimulatedProject("patch-rollout", ("canary", "fleet"), 0.88, 3600, 600, 900, 0.35, 2.5),
    SimulatedProject("cost-optimizer", ("rightsize",), 0.95, 1200, 30, 120, 0.2, 1.0, 180.0),
    SimulatedProject("disk-cleanup", ("sweep",), 0.995, 600, 20, 0, 0.0, 0.01),
    SimulatedProject(
        "incident-autoremediation", ("restart-pod", "failover"), 0.8, 1800, 45, 600, 0.5, 0.2,
        service="servicedesk-api", downtime_share=0.02,
    ),
)  # fmt: skip


class FleetSimulator:
    def __init__(
        self,
        clock: Callable[[], datetime],
        seed: int = 7,
        fleet: tuple[SimulatedProject, ...] = FLEET,
    ) -> None:
        self._clock = clock
        self._random = random.Random(seed)
        self._fleet = fleet

    def next_event(self) -> OutcomeEvent:
        project = self._random.choice(self._fleet)
        roll = self._random.random()
        if project.service and roll < 0.25:
            return self._availability(project)
        if project.savings_per_event and roll < 0.35:
            return self._savings(project)
        if roll > 0.98:
            return self._cost(project)
        return self._run(project)

    def _envelope(self, event_type: EventType, data: object) -> OutcomeEvent:
        event_id = str(uuid.UUID(int=self._random.getrandbits(128)))
        return OutcomeEvent(event_id, "demo/simulator", event_type, self._clock(), data)  # type: ignore[arg-type]

    def _run(self, project: SimulatedProject) -> OutcomeEvent:
        r = self._random
        outcome = "succeeded" if r.random() < project.success_rate else "failed"
        effort = (
            project.effort_s * r.uniform(0.5, 1.5) if r.random() < project.effort_share else 0.0
        )
        data = RunFinished(
            project=project.name,
            automation=r.choice(project.automations),
            outcome=outcome,
            duration_s=round(project.duration_s * r.uniform(0.5, 2.0), 3),
            manual_duration_s=project.manual_s,
            human_effort_s=round(effort, 1),
            cost=project.run_cost,
        )
        return self._envelope(EventType.RUN_FINISHED, data)

    def _savings(self, project: SimulatedProject) -> OutcomeEvent:
        amount = round(project.savings_per_event * self._random.uniform(0.5, 1.5), 2)
        data = SavingsRealized(
            project=project.name, amount=amount, category="cloud", basis="rightsizing diff"
        )
        return self._envelope(EventType.SAVINGS_REALIZED, data)

    def _cost(self, project: SimulatedProject) -> OutcomeEvent:
        data = CostIncurred(project=project.name, amount=25.0, category="licence")
        return self._envelope(EventType.COST_INCURRED, data)

    def _availability(self, project: SimulatedProject) -> OutcomeEvent:
        end = self._clock()
        down = 60.0 * self._random.randint(1, 5) if self._random.random() < 0.1 else 0.0
        data = AvailabilityObserved(
            project=project.name,
            service=project.service or "unknown",
            window_start=end - timedelta(minutes=5),
            window_end=end,
            downtime_s=down,
        )
        return self._envelope(EventType.AVAILABILITY_OBSERVED, data)


def random_id() -> str:
    return str(uuid.uuid4())
