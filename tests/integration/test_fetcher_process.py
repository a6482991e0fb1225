"""The Kafka consumer in a child process (ProcessSource), against the real broker, with
either client (kafka-python, confluent-kafka) where the contract is the same:
rebalance callbacks in the collector, stored offsets honoured, in-flight records
dropped after a seek, waiting batches coalesced, a killed fetcher replaced, a clean
close, and no LeaveGroup from a consumer still joining."""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from kafka import KafkaConsumer

from collector.embedded import free_port
from collector.source.kafka import JOIN_POLL_S, ConsumerSettings
from collector.source.process import FetcherError, ProcessSource
from collector.source.records import SourceRecord
from schemas.binding import to_binary
from schemas.events import EventType
from tests.integration.conftest import TEST_SESSION_TIMEOUT_MS
from tests.support.brokers import Broker, leave_group_for
from tests.support.events import make_event
from tests.support.live import produce

PARTITIONS = 3


class Owner:
    """Stands in for the pipeline: records the callbacks, resumes where told."""

    def __init__(self, resume: dict[int, int] | None = None, load_s: float = 0.0) -> None:
        self.resume = resume or {}
        self.load_s = load_s
        self.assigned: list[list[int]] = []
        self.revoked: list[list[int]] = []

    def on_assigned(self, topic: str, partitions: list[int]) -> dict[int, int | None]:
        self.assigned.append(partitions)
        time.sleep(self.load_s)  # claiming and loading the partitions' state
        return {p: self.resume.get(p) for p in partitions}

    def on_revoked(self, topic: str, partitions: list[int]) -> None:
        self.revoked.append(partitions)


@pytest.fixture
def loaded_topic(broker: Broker) -> Iterator[tuple[str, int]]:
    """A topic with 60 valid binary-mode events spread over its partitions."""
    name = f"fetch-{uuid.uuid4().hex[:10]}"
    broker.create_topics({name: PARTITIONS})
    records = [
        to_binary(make_event(EventType.RUN_FINISHED, project=f"project-{i % 7}")) for i in range(60)
    ]
    yield name, produce(broker.bootstrap_servers, name, records)


@pytest.fixture(params=["kafka-python", "confluent"])
def client(request: pytest.FixtureRequest) -> str:
    """The Kafka client the fetcher uses: each contract holds for both."""
    return str(request.param)


def settings_for(
    broker: Broker, topic: str, max_poll_records: int = 2_000, client: str = "kafka-python"
) -> ConsumerSettings:
    return ConsumerSettings(
        client=client,
        bootstrap_servers=broker.bootstrap_servers,
        topic=topic,
        group_id=f"{topic}-group",
        session_timeout_ms=TEST_SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=1_000,
        max_poll_records=max_poll_records,
        leave_group=leave_group_for(broker),
    )


def poll_until(source: ProcessSource, enough: int, timeout_s: float = 40.0) -> list[SourceRecord]:
    records: list[SourceRecord] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < enough and time.monotonic() < deadline:
        records.extend(source.poll(0.2))
    return records


@pytest.fixture
def fetcher_log(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Callable[[], str]:
    """What the fetcher process wrote to stderr so far (it logs at its parent's level,
    INFO here)."""
    caplog.set_level(logging.INFO)
    return lambda: capfd.readouterr().err


def by_partition(records: list[SourceRecord]) -> dict[int, list[int]]:
    offsets: dict[int, list[int]] = {}
    for record in records:
        offsets.setdefault(record.partition, []).append(record.offset)
    return offsets


def test_records_flow_from_the_offsets_the_collector_stored(
    broker: Broker,
    loaded_topic: tuple[str, int],
    fetcher_log: Callable[[], str],
    client: str,
) -> None:
    topic, produced = loaded_topic
    owner = Owner(resume={0: 2})
    source = ProcessSource(
        settings_for(broker, topic, client=client), owner.on_assigned, owner.on_revoked
    )
    try:
        records = poll_until(source, produced - 2)
        assert owner.assigned == [[0, 1, 2]]  # called here, on the polling thread
        assert source.assigned == {(topic, p) for p in range(PARTITIONS)}
        offsets = by_partition(records)
        assert offsets[0][0] == 2  # resumed where the store said
        assert all(o == list(range(o[0], o[0] + len(o))) for o in offsets.values())
        assert len(records) == produced - 2
        assert all(r.topic == topic and r.restored().value for r in records)
        source.commit_async({(topic, 1): len(offsets[1])})
        assert source.lag({(topic, p): o[-1] + 1 for p, o in offsets.items()}) == [
            (topic, p, 0) for p in range(PARTITIONS)
        ]
    finally:
        source.close()
    assert source._process.exitcode == 0  # exited on its own
    if client == "kafka-python":  # librdkafka leaves on close too, without a log line
        assert "Leaving consumer group" in fetcher_log()  # held partitions: hands over


def test_an_assignment_slower_than_the_fetchers_poll_still_resumes_where_told(
    broker: Broker, loaded_topic: tuple[str, int], client: str
) -> None:
    topic, produced = loaded_topic
    # longer than the fetcher's joining poll: its reply arrives after that poll timed out
    owner = Owner(resume={1: 3}, load_s=JOIN_POLL_S + 1.5)
    source = ProcessSource(
        settings_for(broker, topic, client=client), owner.on_assigned, owner.on_revoked
    )
    try:
        records = poll_until(source, produced - 3, timeout_s=60)
        assert owner.assigned == [[0, 1, 2]]
        assert by_partition(records)[1][0] == 3
        assert len(records) == produced - 3
    finally:
        source.close()
    assert source._process.exitcode == 0


def test_a_seek_drops_records_fetched_before_it(
    broker: Broker, loaded_topic: tuple[str, int], client: str
) -> None:
    topic, produced = loaded_topic
    owner = Owner()
    # one record per poll: several batches are in flight when the seek is sent
    source = ProcessSource(
        settings_for(broker, topic, max_poll_records=1, client=client),
        owner.on_assigned,
        owner.on_revoked,
    )
    try:
        first = poll_until(source, 1)
        partition = first[0].partition
        source.seek(partition, 0)
        after = [r.offset for r in poll_until(source, produced) if r.partition == partition]
        total = len([r for r in first if r.partition == partition])
        assert after[0] == 0, "records fetched before the seek were delivered after it"
        assert after == list(range(len(after)))
        assert len(after) >= total
    finally:
        source.close()


def test_a_killed_fetcher_is_replaced_after_revoking_its_partitions(
    broker: Broker, loaded_topic: tuple[str, int], client: str
) -> None:
    topic, produced = loaded_topic
    owner = Owner()
    source = ProcessSource(
        settings_for(broker, topic, client=client), owner.on_assigned, owner.on_revoked
    )
    try:
        assert len(poll_until(source, produced)) == produced
        os.kill(source._process.pid or 0, signal.SIGKILL)
        again = poll_until(source, produced, timeout_s=60)  # no stored offsets: from the start
        assert owner.revoked == [[0, 1, 2]]
        assert owner.assigned == [[0, 1, 2], [0, 1, 2]]
        assert len(again) == produced
    finally:
        source.close()


def test_an_unreachable_broker_is_reported_by_the_constructor() -> None:
    settings = ConsumerSettings(
        bootstrap_servers=f"127.0.0.1:{free_port()}", topic="t", group_id="g"
    )
    owner = Owner()
    with pytest.raises(FetcherError, match="no bootstrap server reachable"):
        ProcessSource(settings, owner.on_assigned, owner.on_revoked)


def test_waiting_batches_come_in_one_poll_and_a_rebalance_behind_them_waits_its_turn(
    broker: Broker, loaded_topic: tuple[str, int]
) -> None:
    topic, produced = loaded_topic
    received: list[SourceRecord] = []
    seen_at_revoke: list[int] = []
    owner = Owner()

    def on_revoked(topic: str, partitions: list[int]) -> None:
        seen_at_revoke.append(len(received))
        owner.on_revoked(topic, partitions)

    # two records per fetch: every record of the topic is waiting in many small batches
    settings = settings_for(broker, topic, max_poll_records=2)
    first = ProcessSource(settings, owner.on_assigned, on_revoked)
    second: ProcessSource | None = None
    try:
        deadline = time.monotonic() + 40
        while not owner.assigned and time.monotonic() < deadline:
            received.extend(first.poll(0.2))
        assert owner.assigned == [[0, 1, 2]]
        # a second member joins: the first one's revocation queues up behind its batches
        second = ProcessSource(settings, Owner().on_assigned, Owner().on_revoked)
        time.sleep(JOIN_POLL_S + 2)
        received.extend(first.poll(0.2))
        assert len(received) > 2 * PARTITIONS, "waiting batches were not returned together"
        while not owner.revoked and time.monotonic() < deadline + 30:
            received.extend(first.poll(0.2))
        assert owner.revoked, "the revocation behind the batches was never handled"
        assert seen_at_revoke[0] == produced, "records fetched before the revocation came after it"
        offsets = by_partition(received[:produced])
        assert all(o == list(range(len(o))) for o in offsets.values())
    finally:
        first.close()
        if second is not None:
            second.close()


def test_a_consumer_holding_partitions_when_the_collector_dies_leaves_only_on_kafka(
    broker: Broker,
    loaded_topic: tuple[str, int],
    fetcher_log: Callable[[], str],
) -> None:
    topic, produced = loaded_topic
    owner = Owner()
    source = ProcessSource(settings_for(broker, topic), owner.on_assigned, owner.on_revoked)
    assert len(poll_until(source, produced)) == produced
    source._data.close()  # the collector dies: its ends of the pipes close
    source._control.close()
    source._process.join(timeout=15)
    assert source._process.exitcode == 0
    log = fetcher_log()
    if broker.kind == "embedded":  # leave_group=assigned: vanish, as the collector did
        assert "exiting without leaving the group (the collector went away)" in log
        assert "Leaving consumer group" not in log
    else:  # leave_group=always: the partitions move to the other members at once
        assert "Leaving consumer group" in log
        assert "exiting without leaving" not in log


def test_a_consumer_closed_while_still_joining_exits_without_leaving_the_group(
    broker: Broker,
    loaded_topic: tuple[str, int],
    fetcher_log: Callable[[], str],
) -> None:
    topic, _ = loaded_topic
    settings = settings_for(broker, topic)
    # a member that holds every partition and stops polling: the group's next rebalance
    # waits for it, so a newcomer stays in its join for many seconds
    holder = KafkaConsumer(
        bootstrap_servers=broker.bootstrap_servers,
        group_id=settings.group_id,
        session_timeout_ms=TEST_SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=1_000,
        max_poll_interval_ms=30_000,
        enable_auto_commit=False,
    )
    holder.subscribe([topic])
    try:
        deadline = time.monotonic() + 30
        while not holder.assignment() and time.monotonic() < deadline:
            holder.poll(timeout_ms=500)
        assert holder.assignment()
        owner = Owner()
        joining = ProcessSource(settings, owner.on_assigned, owner.on_revoked)
        time.sleep(1.0)  # its JoinGroup is waiting for the holder to rejoin
        joining.close()  # the collector shuts down cleanly
        assert joining._process.exitcode == 0
        assert owner.assigned == []
        log = fetcher_log()
        # Tansu: leaving mid-rebalance can wedge the group; Apache Kafka: the LeaveGroup
        # would wait behind the pending JoinGroup, and the close with it
        assert "exiting without leaving the group (no partitions held)" in log
        assert "Leaving consumer group" not in log
    finally:
        holder.close()
