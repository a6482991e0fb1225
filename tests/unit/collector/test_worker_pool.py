"""What a collector with workers serves while they start (`collector.workers.pool`): the
stored numbers until the workers hold every partition those came from, then theirs for
good; /readyz is ready meanwhile unless a worker fails. The workers' messages go through
a real pipe, as from worker processes. One pipeline (`Ingestion`) has the same bound."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from multiprocessing import Pipe
from typing import Any

import pytest

from collector.config import Settings
from collector.declarations.catalog import Catalog
from collector.ingestion import Ingestion
from collector.workers.merge import DeltaSender
from collector.workers.pool import WorkerPool
from collector.workers.protocol import DELTA, STATUS, WorkerStatus
from schemas.snapshot import HealthSnapshot, Snapshot
from tests.support.snapshots import sample_snapshot

STORED = sample_snapshot()


def counted(accepted: int) -> HealthSnapshot:
    return HealthSnapshot(version="1", events=(("outcomes.run.finished", "accepted", accepted),))


def accepted(snapshot: Snapshot | None) -> int:
    assert snapshot is not None
    return sum(n for _, result, n in snapshot.health.events if result == "accepted")


def report(pool: WorkerPool, index: int, *messages: tuple[Any, ...]) -> None:
    """Worker `index` sends `messages`; the pool reads them until its pipe closes."""
    ours, theirs = Pipe()
    for message in messages:
        theirs.send(message)
    theirs.close()
    pool._read(pool._slots[index], ours)


def joined(partitions: tuple[int, ...], accepted_each: int = 100) -> list[tuple[Any, ...]]:
    """A worker's status and first snapshot once `partitions` are loaded."""
    snapshot = replace(STORED, projects=(), health=counted(0))
    health = {partition: counted(accepted_each) for partition in partitions}
    return [
        (STATUS, WorkerStatus((), partitions, loaded=bool(partitions))),
        (DELTA, DeltaSender().delta(snapshot, health)),
    ]


@pytest.fixture
def pool() -> WorkerPool:
    pool = WorkerPool(Settings(workers=2, session_timeout_ms=1_000), embedded_broker=False)
    stored = replace(STORED, health=counted(600))
    pool.serve_stored(stored, range(6))
    return pool


def test_the_stored_numbers_are_served_and_ready_while_the_workers_start(pool: WorkerPool) -> None:
    assert accepted(pool.snapshot()) == 600
    assert pool.problems() == []


def test_they_are_served_until_the_workers_hold_every_partition_they_came_from(
    pool: WorkerPool,
) -> None:
    report(pool, 0, *joined((0, 1, 2)))
    report(pool, 1, (STATUS, WorkerStatus((), (), loaded=False)))  # still joining
    assert accepted(pool.snapshot()) == 600, "half the partitions: a counter would fall"
    report(pool, 1, *joined((3, 4, 5)))
    assert accepted(pool.snapshot()) == 600  # the workers' own: 6 x 100
    assert pool.snapshot() is not STORED and pool.problems() == []
    report(pool, 1, (STATUS, WorkerStatus(("broker: down",), (), loaded=False)))
    assert "worker 2: broker: down" in pool.problems()
    assert "no partitions assigned" not in pool.problems()
    assert accepted(pool.snapshot()) == 600  # the merged view keeps every partition's


def test_after_taking_over_the_workers_numbers_stay_even_while_one_restarts(
    pool: WorkerPool,
) -> None:
    report(pool, 0, *joined((0, 1, 2), accepted_each=101))
    report(pool, 1, *joined((3, 4, 5), accepted_each=101))
    assert accepted(pool.snapshot()) == 606
    pool._exited(pool._slots[0], -9)  # killed: started again
    assert accepted(pool.snapshot()) == 606  # not the stored 600 again
    assert pool.problems() == ["worker 1: exited with code -9; starting again"]


def test_a_worker_error_is_reported_while_the_stored_numbers_are_served(
    pool: WorkerPool,
) -> None:
    report(pool, 0, (STATUS, WorkerStatus(("state store: locked",), (), loaded=False)))
    assert pool.problems() == ["worker 1: state store: locked"]
    assert accepted(pool.snapshot()) == 600


def test_fewer_partitions_than_stored_hand_over_after_three_session_timeouts(
    pool: WorkerPool,
) -> None:
    report(pool, 0, *joined((0, 1)))
    report(pool, 1, (STATUS, WorkerStatus((), (), loaded=False)))
    assert accepted(pool.snapshot()) == 600  # stored: partitions 2-5 not held yet
    time.sleep(2.0)
    assert accepted(pool.snapshot()) == 600  # within a rebalance's time: maybe one goes on
    time.sleep(1.1)  # held still for three session timeouts: the topic has fewer partitions
    assert accepted(pool.snapshot()) == 200


def test_a_group_that_never_hands_out_partitions_is_not_ready_even_with_stored_numbers(
    pool: WorkerPool,
) -> None:
    """The crash livelock: the workers rejoin forever, the stored numbers are served; past
    three session timeouts without a partition /readyz says so (then ready once they hold)."""
    pool._holding._since = time.monotonic()
    report(pool, 0, (STATUS, WorkerStatus((), (), loaded=False)))
    report(pool, 1, (STATUS, WorkerStatus((), (), loaded=False)))
    assert pool.problems() == []  # within the bound (3 x 1 s here)
    pool._holding._since = time.monotonic() - 3.5
    (problem,) = pool.problems()
    assert "no partitions held for 4 s" in problem
    assert "worker 1 joining the group, worker 2 joining the group" in problem
    assert accepted(pool.snapshot()) == 600  # the stored numbers are still served
    report(pool, 0, *joined((0, 1, 2)))
    report(pool, 1, *joined((3, 4, 5)))
    assert pool.problems() == []


def test_the_partitions_held_and_the_time_without_any_are_exported_numbers(
    pool: WorkerPool,
) -> None:
    pool._holding._since = time.monotonic() - 2.0
    held, unheld_s = pool.held()
    assert held == 0 and 2.0 <= unheld_s < 3.0
    report(pool, 0, *joined((0, 1)))
    report(pool, 1, *joined((2, 3, 4)))
    assert pool.held() == (5, 0.0)


def test_one_pipeline_serving_stored_numbers_is_not_ready_once_the_group_never_settles() -> None:
    """The same bound for `workers: 1`: the preloaded numbers keep it ready only while a
    rebalance may still hand it partitions."""
    ingestion = Ingestion(
        Settings(workers=1, session_timeout_ms=1_000),
        Catalog,
        lambda snapshot: None,
        lambda: datetime.now(UTC),
    )
    ingestion.status.loaded = ingestion.status.preloaded = True
    assert ingestion.problems() == []
    ingestion.holding._since = time.monotonic() - 3.5
    (problem,) = ingestion.problems()
    assert "no partitions held for 4 s" in problem
    assert "the pipeline serving the stored numbers" in problem
    assert ingestion.held()[0] == 0
    ingestion.status.assigned = frozenset({("outcomes.events", 0)})
    assert ingestion.problems() == []
    assert ingestion.held() == (1, 0.0)
