from __future__ import annotations

from pathlib import Path

from collector.pipeline import Pipeline
from collector.state.sqlite import SqliteStore
from schemas.binding import KafkaRecord, to_binary, to_structured
from schemas.snapshot import Snapshot
from tests.support.doubles import MemoryDeadLetters, MemorySource
from tests.support.engines import new_engine
from tests.support.events import make_event


def build(tmp_path: Path) -> tuple[Pipeline, MemorySource, MemoryDeadLetters, list[Snapshot]]:
    source, dead = MemorySource(), MemoryDeadLetters()
    published: list[Snapshot] = []
    store = SqliteStore(tmp_path / "state.db")
    pipeline = Pipeline(source, new_engine(), store, dead, publish=published.append, offsets={})
    return pipeline, source, dead, published


def test_batch_is_committed_with_offsets_and_rejections_dead_lettered(tmp_path: Path) -> None:
    pipeline, source, dead, _ = build(tmp_path)
    good = make_event(event_id="g")
    batch = source.add(
        [to_binary(good), KafkaRecord(b"ticket-triage", [], b"{oops"), to_structured(good)]
    )
    pipeline.process(source.poll(0))
    assert [(r.offset, e.reason.value) for r, e in dead.sent] == [(1, "malformed")]
    assert dead.sent[0][0] is batch[1]
    loaded = SqliteStore(tmp_path / "state.db").load()
    assert loaded.offsets == {("events", 0): 3}
    assert len(loaded.seen) == 1
    health = dict(((t, r), n) for t, r, n in loaded.health["events"])
    assert health == {
        ("outcomes.run.finished", "accepted"): 1,
        ("outcomes.run.finished", "duplicate"): 1,
        ("unknown", "rejected"): 1,
    }
    assert source.committed == {("events", 0): 3}


def test_too_large_records_are_rejected_before_parsing(tmp_path: Path) -> None:
    pipeline, source, dead, _ = build(tmp_path)
    source.add([KafkaRecord(b"p", [], b"x" * 2_000_000)])
    pipeline.process(source.poll(0))
    assert dead.sent[0][1].reason.value == "too_large"


def test_restart_resumes_exactly(tmp_path: Path) -> None:
    pipeline, source, _, _ = build(tmp_path)
    source.add([to_binary(make_event(event_id=str(i))) for i in range(3)])
    pipeline.process(source.poll(0))
    store = SqliteStore(tmp_path / "state.db")
    loaded = store.load()
    engine = new_engine()
    engine.restore(loaded)
    again = Pipeline(
        MemorySource(),
        engine,
        store,
        MemoryDeadLetters(),
        publish=lambda s: None,
        offsets=dict(loaded.offsets),
    )
    replay = MemorySource()
    replay.add([to_binary(make_event(event_id=str(i))) for i in range(4)])
    again.source = replay
    again.process(replay.poll(0))
    runs = engine.snapshot().projects[0].counters.runs
    assert runs == (("classify", "succeeded", 4),)
