"""A flood of a million distinct automation names: labels fold into `other`, the overflow
is counted, and memory stays bounded."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta

from collector.engine.engine import Engine
from collector.engine.settings import EngineSettings
from schemas.envelope import OutcomeEvent
from schemas.events import EventType, RunFinished
from tests.support.engines import FixedClock
from tests.support.events import NOW

FLOOD = 1_000_000


def test_a_million_automation_names_fold_into_other_with_bounded_memory() -> None:
    engine = Engine(
        EngineSettings(max_automations_per_project=100), FixedClock(NOW + timedelta(minutes=1))
    )
    template = RunFinished(
        project="noisy-bot", automation="a", outcome="succeeded",
        duration_s=1.0, manual_duration_s=10.0, human_effort_s=0.0, cost=0.0,
    )  # fmt: skip
    tracemalloc.start()
    for index in range(FLOOD):
        data = template.model_copy(update={"automation": f"job-{index}"})
        engine.apply(OutcomeEvent(f"e{index}", "flood", EventType.RUN_FINISHED, NOW, data), 0)
        if index == 10_000:
            engine.take_changes()  # the pipeline commits every batch
            baseline, _ = tracemalloc.get_traced_memory()
        if index % 10_000 == 9_999:
            engine.take_changes()
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    snapshot = engine.snapshot()
    (project,) = snapshot.projects
    runs = dict(((a, o), n) for a, o, n in project.counters.runs)
    assert len(runs) == 101
    assert runs[("other", "succeeded")] == FLOOD - 100
    assert dict(snapshot.health.label_overflow) == {"automation": FLOOD - 100}
    assert sum(runs.values()) == FLOOD
    # what remains per event is the seen-id digest (~150 B), never a label or a series
    assert (current - baseline) / (FLOOD - 10_000) < 400
