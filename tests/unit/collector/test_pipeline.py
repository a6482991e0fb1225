from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from collector.pipeline import Pipeline, PipelineSettings, partition_of
from collector.source.records import SourceRecord
from collector.state.sqlite import SqliteStore
from schemas.binding import KafkaRecord, to_binary, to_structured
from schemas.events import EventType
from schemas.snapshot import Snapshot
from tests.support.doubles import MemoryDeadLetters, MemorySource
from tests.support.engines import FixedClock, new_engine
from tests.support.events import NOW, make_event


def build(
    path: Path, owner: str = "a"
) -> tuple[Pipeline, MemorySource, MemoryDeadLetters, list[Snapshot]]:
    source, dead = MemorySource(), MemoryDeadLetters()
    published: list[Snapshot] = []
    pipeline = Pipeline(
        new_engine(), SqliteStore(path), dead, publish=published.append,
        settings=PipelineSettings(owner=owner),
    )  # fmt: skip
    pipeline.source = source
    pipeline.assign("events", [0])
    return pipeline, source, dead, published


def test_batch_is_committed_with_offsets_and_rejections_dead_lettered(tmp_path: Path) -> None:
    pipeline, source, dead, _ = build(tmp_path / "state.db")
    good = make_event(event_id="g")
    batch = source.add(
        [to_binary(good), KafkaRecord(b"ticket-triage", [], b"{oops"), to_structured(good)]
    )
    pipeline.process(source.poll(0))
    assert [(r.offset, e.reason.value) for r, e in dead.sent] == [(1, "malformed")]
    assert dead.sent[0][0] is batch[1]
    loaded = SqliteStore(tmp_path / "state.db").load("events", [0])
    assert loaded.offsets == {("events", 0): 3}
    assert len(loaded.seen) == 1
    health = {(t, r): n for t, r, n in loaded.health[0]["events"]}
    assert health == {
        ("outcomes.run.finished", "accepted"): 1,
        ("outcomes.run.finished", "duplicate"): 1,
        ("unknown", "rejected"): 1,
    }
    assert source.committed == {("events", 0): 3}


@pytest.mark.parametrize(
    ("field", "number"), [("cost", 1e300), ("manual_duration_s", 1e300), ("cost", 1.0000001e15)]
)
def test_a_number_beyond_exact_counting_is_dead_lettered_and_the_batch_goes_on(
    tmp_path: Path, field: str, number: float
) -> None:
    """A run costing 1e300 passed validation once and stopped the engine's exact arithmetic
    (an overflow in the middle of a batch: the batch failed again after every restart).
    Every amount, duration and token count now has a maximum (10**15) in the schema."""
    pipeline, source, dead, _ = build(tmp_path / "state.db")
    record = to_binary(make_event(event_id="huge"))
    source.add([_with(record, field, number), to_binary(make_event(event_id="fine"))])
    pipeline.process(source.poll(0))
    ((_, error),) = dead.sent
    assert error.reason.value == "invalid"
    assert error.detail == f"data.{field}: Input should be less than or equal to 1000000000000000"
    loaded = SqliteStore(tmp_path / "state.db").load("events", [0])
    assert loaded.offsets == {("events", 0): 2} and len(loaded.seen) == 1


def _with(record: KafkaRecord, field: str, number: float) -> KafkaRecord:
    data = json.loads(record.value)
    data[field] = number
    return KafkaRecord(record.key, record.headers, json.dumps(data).encode())


def test_events_decoded_by_the_fetcher_are_counted_and_rejected_with_their_bytes(
    tmp_path: Path,
) -> None:
    pipeline, source, dead, _ = build(tmp_path / "state.db")
    good = make_event(event_id="g")
    future = make_event(event_id="f", time=NOW + timedelta(hours=1))
    sent = [to_binary(good), to_structured(future), KafkaRecord(b"ticket-triage", [], b"{oops")]
    batch = source.add(sent, decoded_by_fetcher=True)
    assert [r.event is not None for r in batch] == [True, True, False]  # decoded there
    assert batch[0].value is None and batch[0].raw is not None  # travelled as one object
    pipeline.process(source.poll(0))
    assert [(r.offset, e.reason.value) for r, e in dead.sent] == [(1, "future"), (2, "malformed")]
    for (letter, _), record in zip(dead.sent, sent[1:], strict=True):
        assert (letter.key, list(letter.headers), letter.value) == (
            record.key, list(record.headers), record.value,
        )  # fmt: skip
        assert letter.raw is None
    health = {(t, r): n for t, r, n in SqliteStore(tmp_path / "state.db").load("events", [0])
              .health[0]["events"]}  # fmt: skip
    assert health == {
        ("outcomes.run.finished", "accepted"): 1,
        ("outcomes.run.finished", "rejected"): 1,
        ("unknown", "rejected"): 1,
    }


def test_a_limit_below_what_the_fetcher_decodes_still_refuses_large_records(
    tmp_path: Path,
) -> None:
    source, dead = MemorySource(), MemoryDeadLetters()
    pipeline = Pipeline(
        new_engine(), SqliteStore(tmp_path / "state.db"), dead, publish=lambda _: None,
        settings=PipelineSettings(max_event_bytes=200),
    )  # fmt: skip
    pipeline.assign("events", [0])
    record = to_structured(make_event())
    assert len(record.value) > 200
    [fetched] = source.add([record], decoded_by_fetcher=True)
    assert fetched.event is not None
    pipeline.process(source.poll(0))
    [(letter, error)] = dead.sent
    assert error.reason.value == "too_large"
    assert (letter.key, letter.value) == (record.key, record.value)


def test_each_partitions_next_offset_is_its_last_records_however_a_batch_interleaves_them(
    tmp_path: Path,
) -> None:
    """Partitions come in runs within a batch, or not; the same number on two topics is two
    partitions; a partition whose last record was rejected still moves on."""
    pipeline, source, dead, _ = build(tmp_path / "state.db")
    pipeline.assign("other", [0, 1])
    order = [("events", 0), ("other", 0), ("other", 0), ("events", 0), ("other", 1), ("other", 0)]
    records = []
    for number, (topic, partition) in enumerate(order):
        good = to_binary(make_event(event_id=f"e{number}"))
        key, headers, value = (good.key, good.headers, good.value) if number != 5 else (
            b"ticket-triage", [], b"{oops"
        )  # fmt: skip
        records.append(SourceRecord(topic, partition, 10 + number, key, headers, value))
    pipeline.process(records)
    expected = {("events", 0): 14, ("other", 0): 16, ("other", 1): 15}
    assert SqliteStore(tmp_path / "state.db").load("events", [0]).offsets == {("events", 0): 14}
    assert SqliteStore(tmp_path / "state.db").load("other", [0, 1]).offsets == {
        ("other", 0): 16, ("other", 1): 15,
    }  # fmt: skip
    assert source.committed == expected and list(source.committed) == list(expected)
    assert [r.offset for r, _ in dead.sent] == [15]


def test_too_large_records_are_rejected_before_parsing(tmp_path: Path) -> None:
    pipeline, source, dead, _ = build(tmp_path / "state.db")
    source.add([KafkaRecord(b"p", [], b"x" * 2_000_000)])
    pipeline.process(source.poll(0))
    assert dead.sent[0][1].reason.value == "too_large"


def test_restart_resumes_exactly(tmp_path: Path) -> None:
    pipeline, source, _, _ = build(tmp_path / "state.db")
    source.add([to_binary(make_event(event_id=str(i))) for i in range(3)])
    pipeline.process(source.poll(0))
    again, replay, _, _ = build(tmp_path / "state.db")
    assert again.next_offsets == {("events", 0): 3}
    replay.add([to_binary(make_event(event_id=str(i))) for i in range(4)])
    again.process(replay.poll(0))
    runs = again.engine.snapshot().projects[0].counters.runs
    assert runs == (("classify", "succeeded", 4),)


def test_revoked_partitions_are_no_longer_exported(tmp_path: Path) -> None:
    pipeline, source, _, _ = build(tmp_path / "state.db")
    source.add([to_binary(make_event())])
    pipeline.process(source.poll(0))
    assert [p.name for p in pipeline.engine.snapshot().projects] == ["ticket-triage"]
    pipeline.revoke("events", [0])
    assert pipeline.engine.snapshot().projects == ()


def test_a_fenced_zombie_cannot_write(tmp_path: Path) -> None:
    zombie, zombie_source, _, _ = build(tmp_path / "state.db", owner="zombie")
    zombie_source.add([to_binary(make_event(event_id="1"))])
    zombie.process(zombie_source.poll(0))
    owner, owner_source, _, _ = build(tmp_path / "state.db", owner="new")  # claims partition 0
    owner_source.add([to_binary(make_event(event_id=str(i))) for i in range(1, 4)])
    owner.process(owner_source.poll(0))

    zombie_source.add([to_binary(make_event(event_id="zombie-only"))])
    zombie.process(zombie_source.poll(0))  # refused by the store
    assert zombie_source.paused == [0]
    assert zombie.engine.snapshot().projects == ()
    stored = SqliteStore(tmp_path / "state.db").load("events", [0])
    (project,) = stored.projects
    assert project.counters["runs"] == {"keys": [["classify", "succeeded"]], "n": [3]}
    assert stored.offsets == {("events", 0): 3}


def test_declared_projects_belong_to_the_partition_of_their_key() -> None:
    assert {partition_of("ticket-triage", 6) for _ in range(3)} == {
        partition_of("ticket-triage", 6)
    }
    assert len({partition_of(f"p{i}", 6) for i in range(100)}) == 6


def test_a_single_instance_store_is_served_before_the_group_join(tmp_path: Path) -> None:
    """After a restart the stored numbers are exported (and ready) before any
    assignment; the first assignment keeps only what the group assigned."""
    pipeline, source, _, _ = build(tmp_path / "state.db")
    pipeline.assign("events", [0, 1])
    projects = {partition: f"project-{partition}" for partition in (0, 1)}
    for partition, project in projects.items():
        event = make_event(event_id=f"e{partition}", project=project)
        source.add([to_binary(event)], partition=partition)
        pipeline.process(source.poll(0))

    published: list[Snapshot] = []
    restarted = Pipeline(
        new_engine(), SqliteStore(tmp_path / "state.db"), None, publish=published.append
    )
    assert restarted.status.problems() == ["state not loaded", "no partitions assigned"]
    restarted.preload()
    assert restarted.status.problems() == []
    assert {p.name for p in published[-1].projects} == set(projects.values())
    assert sum(n for _, result, n in published[-1].health.events if result == "accepted") == 2

    assert restarted.assign("events", [1]) == {1: 1}  # resumes after the stored offset
    assert restarted.engine.project_names() == ["project-1"]
    assert not restarted.status.preloaded  # readiness follows the assignment again


SILENT = """\
apiVersion: outcomes/v1
kind: Project
metadata: {name: silent-bot}
spec:
  owner: infra-sre
  objectives: {savings: 100}
"""


def test_a_declaration_takes_effect_once_and_keeps_that_time(tmp_path: Path) -> None:
    """A declared project that never reported is stalled from when its declaration first
    took effect: that time is stored, and a restart (or a new owner) keeps it."""
    from datetime import timedelta

    from collector.declarations.registry import DeclarationRegistry
    from collector.engine.engine import Engine
    from collector.engine.settings import EngineSettings
    from tests.support.engines import FixedClock
    from tests.support.events import NOW

    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "silent.yaml").write_text(SILENT)
    catalog = DeclarationRegistry(tmp_path / "projects").reload().catalog

    def start(clock: FixedClock) -> list[Snapshot]:
        published: list[Snapshot] = []
        pipeline = Pipeline(
            Engine(EngineSettings(), clock, catalog), SqliteStore(tmp_path / "state.db"),
            MemoryDeadLetters(), publish=published.append,
        )  # fmt: skip
        pipeline.assign("events", [0])
        pipeline._publish(force=True)
        return published

    (first,) = start(FixedClock(NOW))
    (silent,) = first.projects
    assert (silent.name, silent.last_event_time_s) == ("silent-bot", None)
    assert silent.declared_since_s == NOW.timestamp()
    (later,) = start(FixedClock(NOW + timedelta(days=5)))
    assert later.projects[0].declared_since_s == NOW.timestamp()


def test_a_small_batch_is_published_soon_even_when_nothing_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Light load: the loop wakes `eager_publish_s` after the last publish for a small
    batch's numbers, instead of waiting out a long poll; under load the interval holds."""
    clock = [100.0]
    monkeypatch.setattr("collector.pipeline.pacing.time.monotonic", lambda: clock[0])
    pipeline, source, _, published = build(tmp_path / "state.db")
    settings = pipeline.settings
    pipeline._publish(force=True)
    assert (
        pipeline._pacing.poll_timeout_s(settings.poll_timeout_s) == settings.poll_timeout_s
    )  # nothing new: a full poll
    source.add([to_binary(make_event(event_id="1"))])
    stop = threading.Event()
    polled = source.poll

    def poll_once(timeout_s: float) -> list[SourceRecord]:
        stop.set()  # one iteration of the loop
        clock[0] += 0.01  # the batch arrives 10 ms after run's first publish
        return polled(timeout_s)

    monkeypatch.setattr(source, "poll", poll_once)
    pipeline.run(source, stop)  # applies the batch; 10 ms after a publish: not yet due
    assert len(published) == 2  # the forced ones
    assert pipeline._pacing.poll_timeout_s(settings.poll_timeout_s) == pytest.approx(
        settings.eager_publish_s - 0.01
    )
    clock[0] += settings.eager_publish_s
    pipeline._publish()
    assert len(published) == 3
    assert published[-1].projects[0].counters.runs == (("classify", "succeeded", 1),)
    assert pipeline._pacing.poll_timeout_s(settings.poll_timeout_s) == settings.poll_timeout_s


def test_under_load_snapshots_are_spaced_by_what_they_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot that takes 10 ms is followed by the next one no sooner than 10 ms /
    `publish_share` later (0.5 s), and one that takes a second no later than
    `max_publish_interval_s`; a cheap one keeps `publish_interval_s`."""
    clock = [100.0]
    monkeypatch.setattr("collector.pipeline.pacing.time.monotonic", lambda: clock[0])
    pipeline, _, _, published = build(tmp_path / "state.db")
    settings = pipeline.settings
    cost = [0.0]

    def publish(snapshot: Snapshot) -> None:
        published.append(snapshot)
        clock[0] += cost[0]

    pipeline.publish = publish
    for cost_s, spacing_s in (
        (0.0, settings.publish_interval_s),
        (0.010, 0.010 / settings.publish_share),
        (1.0, settings.max_publish_interval_s),
    ):
        cost[0] = cost_s
        pipeline._publish(force=True)
        started = clock[0] - cost_s
        count = len(published)
        clock[0] = started + spacing_s - 0.001
        pipeline._publish()
        assert len(published) == count, f"{cost_s}: published before {spacing_s} s"
        clock[0] = started + spacing_s + 1e-6
        pipeline._publish()
        assert len(published) == count + 1, f"{cost_s}: not published after {spacing_s} s"


def test_a_review_whose_run_never_comes_is_dead_lettered_unmatched_once(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    source, dead = MemorySource(), MemoryDeadLetters()
    engine = new_engine()
    engine._clock = clock
    pipeline = Pipeline(
        engine, SqliteStore(tmp_path / "state.db"), dead, publish=lambda s: None,
        settings=PipelineSettings(owner="a", maintenance_interval_s=0.0),
    )  # fmt: skip
    pipeline.source = source
    pipeline.assign("events", [0])
    review = make_event(EventType.REVIEW_RECORDED, event_id="v1", subject="never")
    source.add([to_binary(review)])
    pipeline.process(source.poll(0))
    pipeline._maintain()
    assert dead.sent == []
    clock.now = NOW + timedelta(days=30)  # November and its grace are over
    pipeline._maintain()
    ((record, error),) = dead.sent
    assert (error.reason.value, record.topic, record.key) == (
        "unmatched",
        "events",
        b"ticket-triage",
    )
    assert b'"subject":"never"' in (record.value or b"")
    pipeline._maintain()
    assert len(dead.sent) == 1  # forgotten: sent once
    loaded = SqliteStore(tmp_path / "state.db").load("events", [0])
    assert loaded.reviews == ()
    assert loaded.health[0]["rejected"] == {"unmatched": 1}
