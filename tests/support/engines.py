"""Engines with a fixed clock, a helper that feeds them events like the pipeline, and a
pipeline over a SQLite state file for restart tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from collector.engine.admission import Verdict
from collector.engine.engine import Engine
from collector.engine.policy import ProjectPolicy
from collector.engine.settings import EngineSettings
from collector.pipeline import Pipeline, PipelineSettings
from collector.state.sqlite import SqliteStore
from schemas.envelope import EventError, OutcomeEvent
from tests.support.doubles import MemoryDeadLetters, MemorySource
from tests.support.events import NOW


class FixedClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def sqlite_pipeline(
    path: Path, clock: FixedClock, policy: ProjectPolicy | None = None
) -> tuple[Pipeline, MemorySource]:
    """A pipeline holding partition 0 of `events` over the state file `path` (a second one
    on the same file is a restart), fed from the returned source."""
    source, store = MemorySource(), SqliteStore(path)
    engine = Engine(EngineSettings(), clock, policy, archive=store.load_period)
    pipeline = Pipeline(
        engine, store, MemoryDeadLetters(), publish=lambda snapshot: None,
        settings=PipelineSettings(owner="a"),
    )  # fmt: skip
    pipeline.source = source
    pipeline.assign("events", [0])
    return pipeline, source


def new_engine(now: datetime = NOW, **settings: object) -> Engine:
    return Engine(EngineSettings(**settings), FixedClock(now))  # type: ignore[arg-type]


def feed(engine: Engine, events: Iterable[OutcomeEvent], partition: int = 0) -> list[str]:
    """Apply each event as the pipeline would; returns each verdict or rejection reason."""
    results = []
    for event in events:
        try:
            results.append(engine.apply(event, partition).value)
        except EventError as error:
            engine.reject(event.type.value, error.reason)
            results.append(error.reason.value)
    return results


def verdicts(results: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        counts[result] = counts.get(result, 0) + 1
    return counts


__all__ = ["FixedClock", "Verdict", "feed", "new_engine", "verdicts"]
