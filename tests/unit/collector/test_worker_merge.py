"""The collector's one snapshot from its workers' deltas (`collector.workers.merge`): the
same projects and sums as one engine holding everything, and counters that never fall
while partitions move or a worker is replaced."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.engine.evaluate import portfolio
from collector.engine.health import DelayHistogram
from collector.workers.merge import DeltaSender, MergedView, added, summed_counters
from schemas.snapshot import HealthSnapshot, ProjectSnapshot, Snapshot
from tests.support.snapshots import sample_snapshot

BASE = sample_snapshot()
PROJECT = BASE.projects[0]


def project(name: str, status: str = "met") -> ProjectSnapshot:
    return replace(PROJECT, name=name, status=status)


def counters(accepted: int, since_s: float = 100.0) -> HealthSnapshot:
    return HealthSnapshot(
        version="1", events=(("outcomes.run.finished", "accepted", accepted),), since_s=since_s
    )


def snapshot(*projects: ProjectSnapshot, delays: tuple[float, ...] = ()) -> Snapshot:
    histogram = DelayHistogram()
    histogram.observe_all(list(delays))
    health = HealthSnapshot(version="1", event_delay=histogram.freeze())
    return Snapshot(taken_at_s=1.0, currency="USD", projects=projects, health=health)


def accepted(view: MergedView) -> int:
    merged = view.snapshot()
    assert merged is not None
    return sum(n for _, result, n in merged.health.events if result == "accepted")


def test_a_delta_holds_only_the_projects_that_changed_and_those_gone() -> None:
    sender = DeltaSender()
    a, b = project("a"), project("b")
    first = sender.delta(snapshot(a, b), {})
    assert [p.name for p in first.changed] == ["a", "b"]
    assert first.removed == ()
    b2 = project("b", "at_risk")  # a new view of b; a is the same object
    second = sender.delta(snapshot(a, b2), {})
    assert second.changed == (b2,)
    third = sender.delta(snapshot(b2), {})
    assert third.changed == ()
    assert third.removed == ("a",)


def test_the_merged_snapshot_is_every_workers_projects_in_order_with_their_portfolio() -> None:
    one, two = DeltaSender(), DeltaSender()
    view = MergedView("USD")
    assert view.snapshot() is None
    view.apply(0, one.delta(snapshot(project("c"), project("a", "off_target")), {0: counters(3)}))
    view.apply(1, two.delta(snapshot(project("b", "at_risk")), {1: counters(4)}))
    merged = view.snapshot()
    assert merged is not None
    assert [p.name for p in merged.projects] == ["a", "b", "c"]
    assert merged.portfolio == portfolio(merged.projects)
    assert accepted(view) == 7
    # unchanged projects keep their objects: the exporter's per-project cache holds
    again = view.snapshot()
    assert again is not None
    assert all(x is y for x, y in zip(merged.projects, again.projects, strict=True))


def test_a_project_two_workers_export_during_a_rebalance_is_shown_once_newest_first() -> None:
    old, new = DeltaSender(), DeltaSender()
    view = MergedView("USD")
    view.apply(0, old.delta(snapshot(project("a", "met")), {}))
    view.apply(1, new.delta(snapshot(project("a", "off_target")), {}))
    merged = view.snapshot()
    assert merged is not None
    assert [(p.name, p.status) for p in merged.projects] == [("a", "off_target")]
    view.apply(0, old.delta(snapshot(), {}))  # the old owner lets it go
    merged = view.snapshot()
    assert merged is not None
    assert [(p.name, p.status) for p in merged.projects] == [("a", "off_target")]


def test_counters_never_fall_while_a_partition_moves_or_its_worker_exits() -> None:
    a, b = DeltaSender(), DeltaSender()
    view = MergedView("USD")
    view.apply(0, a.delta(snapshot(project("x")), {0: counters(5), 1: counters(2)}))
    view.apply(1, b.delta(snapshot(), {}))
    assert accepted(view) == 7
    view.apply(0, a.delta(snapshot(), {1: counters(2)}))  # partition 0 revoked from worker 0
    assert accepted(view) == 7  # its last counters stay until the next owner reports
    view.apply(1, b.delta(snapshot(project("x")), {0: counters(6)}))
    assert accepted(view) == 8
    view.forget(0)  # worker 0 exited: its projects go, its partitions' counters stay
    assert accepted(view) == 8
    merged = view.snapshot()
    assert merged is not None
    assert [p.name for p in merged.projects] == ["x"]


def test_event_delays_of_a_replaced_worker_are_carried_into_the_sum() -> None:
    view = MergedView("USD")
    view.apply(0, DeltaSender().delta(snapshot(delays=(0.1, 2.0)), {}))
    view.apply(1, DeltaSender().delta(snapshot(delays=(30.0,)), {}))
    view.forget(0)
    view.apply(0, DeltaSender().delta(snapshot(delays=(0.5,)), {}))  # its replacement
    merged = view.snapshot()
    assert merged is not None
    expected = DelayHistogram()
    expected.observe_all([0.1, 2.0, 30.0, 0.5])
    assert merged.health.event_delay == replace(expected.freeze(), since_s=0.0)


@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), max_size=30),
    st.lists(st.floats(0, 1e6, allow_nan=False), max_size=30),
)
def test_adding_two_histograms_is_observing_both_sets_of_delays(
    first: list[float], second: list[float]
) -> None:
    one, two, both = DelayHistogram(), DelayHistogram(), DelayHistogram()
    one.observe_all(first)
    two.observe_all(second)
    both.observe_all(first + second)
    total = added(one.freeze(), two.freeze())
    expected = both.freeze()
    assert total.cumulative == expected.cumulative
    assert total.count == expected.count
    assert (total.minimum, total.maximum) == (expected.minimum, expected.maximum)
    assert abs(total.total - expected.total) <= 1e-9 * max(1.0, expected.total)


def test_summed_counters_add_every_partition_and_start_at_the_earliest() -> None:
    health = summed_counters("1", [counters(2, 300.0), counters(3, 0.0), counters(4, 200.0)])
    assert health.events == (("outcomes.run.finished", "accepted", 9),)
    assert health.since_s == 200.0


def test_projects_stay_shown_while_their_partition_moves_then_expire() -> None:
    now = [0.0]
    view = MergedView("USD", hold_s=30.0, clock=lambda: now[0])
    a, b = DeltaSender(), DeltaSender()
    view.apply(0, a.delta(snapshot(project("x"), project("y")), {}))
    view.apply(1, b.delta(snapshot(project("z")), {}))
    view.forget(0)  # worker 0 killed: x and y wait for their partitions' next owner
    view.apply(1, b.delta(snapshot(project("z")), {}))
    merged = view.snapshot()
    assert merged is not None
    assert [p.name for p in merged.projects] == ["x", "y", "z"]
    assert merged.portfolio == portfolio(merged.projects)
    assert view.holding
    view.apply(1, b.delta(snapshot(project("x", "at_risk"), project("z")), {}))  # x's new owner
    now[0] = 29.0
    merged = view.snapshot()
    assert merged is not None
    assert [(p.name, p.status) for p in merged.projects] == [
        ("x", "at_risk"), ("y", "met"), ("z", "met")
    ]  # fmt: skip
    now[0] = 31.0  # nobody took y (another collector instance holds its partition now)
    merged = view.snapshot()
    assert merged is not None
    assert [p.name for p in merged.projects] == ["x", "z"]
    assert not view.holding
    # a revoked partition's projects are held the same way
    view.apply(1, b.delta(snapshot(project("z")), {}))
    merged = view.snapshot()
    assert merged is not None and [p.name for p in merged.projects] == ["x", "z"]


def test_a_partition_another_collector_took_stops_counting_here_after_the_hold() -> None:
    """Counters of a partition no worker of this collector reports again in time belong to
    another collector instance now (kept, a sum over instances counts them twice): one
    session after a revocation, three after its worker exited."""
    now = [0.0]
    view = MergedView("USD", hold_s=18.0, clock=lambda: now[0], revoked_s=6.0)
    a, b = DeltaSender(), DeltaSender()
    lagging = replace(snapshot(), health=HealthSnapshot("1", consumer_lag=(("t", 0, 9),)))
    view.apply(0, a.delta(lagging, {0: counters(5), 1: counters(2)}))
    view.apply(1, b.delta(snapshot(project("x")), {2: counters(4)}))
    assert accepted(view) == 11
    view.apply(0, a.delta(snapshot(), {1: counters(2)}))  # partition 0 revoked
    now[0] = 5.0
    assert accepted(view) == 11  # maybe another worker of this collector gets it
    assert view.holding
    now[0] = 7.0  # none did: another instance exports it
    assert accepted(view) == 6
    merged = view.snapshot()
    assert merged is not None and merged.health.consumer_lag == ()
    view.forget(1)  # worker 1 killed: partition 2 and project x wait for their next owner
    now[0] = 24.0
    assert accepted(view) == 6
    merged = view.snapshot()
    assert merged is not None and [p.name for p in merged.projects] == ["x"]
    now[0] = 26.0  # nobody here took them
    assert accepted(view) == 2
    merged = view.snapshot()
    assert merged is not None and merged.projects == ()
    view.apply(0, a.delta(snapshot(), {1: counters(3), 2: counters(4)}))  # it comes back
    assert accepted(view) == 7
    assert not view.holding


def test_counters_are_kept_while_a_slow_rebalance_outlasts_the_hold() -> None:
    """On a slow broker the replacement of a killed worker can take longer than the hold to
    join and load (joins wait for the dead member's session, then a second round): what is
    kept expires only once the workers have been quiet — all joined and loaded, holding the
    same partitions — for `revoked_s` in all since it was released."""
    now = [0.0]
    view = MergedView("USD", hold_s=18.0, clock=lambda: now[0], revoked_s=6.0)
    a, b = DeltaSender(), DeltaSender()
    view.observe(True, frozenset({0, 1, 2}))
    view.apply(0, a.delta(snapshot(project("x")), {0: counters(5), 1: counters(2)}))
    view.apply(1, b.delta(snapshot(project("z")), {2: counters(4)}))
    view.forget(0)  # worker 0 killed
    view.observe(False, frozenset({2}))  # its replacement is starting
    now[0] = 8.0
    view.observe(False, frozenset())  # the survivor revoked everything: a rebalance
    view.apply(1, b.delta(snapshot(project("z")), {}))
    now[0] = 20.0  # past the hold of both, and not quiet yet
    assert accepted(view) == 11
    merged = view.snapshot()
    assert merged is not None and [p.name for p in merged.projects] == ["x", "z"]
    view.observe(True, frozenset({0, 1, 2}))  # both joined and loaded at 20 s
    now[0] = 23.0
    view.observe(True, frozenset({0, 2}))  # a rebalance went by: partition 1 went elsewhere
    now[0] = 26.0
    view.observe(True, frozenset({0, 2}))  # quiet from 23 s
    now[0] = 28.5
    assert accepted(view) == 11  # 5.5 s of quiet time
    now[0] = 29.5
    assert accepted(view) == 0  # none of them was reported here again
    merged = view.snapshot()
    assert merged is not None and [p.name for p in merged.projects] == ["z"]  # worker 1's


@pytest.mark.parametrize(
    ("overtime_s", "revoked_until", "exited_until"),
    [(None, 24, 36), (6.0, 12, 24)],
    ids=["own-state", "shared-state"],
)
def test_nothing_is_kept_past_the_bound_when_the_workers_are_never_quiet(
    overtime_s: float | None, revoked_until: int, exited_until: int
) -> None:
    """A partition that went to another collector instance while this one's workers keep
    rebalancing is exported there: kept here longer than `overtime_s` past its time, a sum
    over instances would count it twice for as long as the churn lasts. With state of its
    own no other instance can have it (kept up to `hold_s` past its time); with shared
    state one session past it."""
    now = [0.0]
    view = MergedView(
        "USD", hold_s=18.0, clock=lambda: now[0], revoked_s=6.0, overtime_s=overtime_s
    )
    a, b = DeltaSender(), DeltaSender()
    view.observe(False, frozenset({0}))
    view.apply(0, a.delta(snapshot(project("x")), {0: counters(5)}))
    view.apply(1, b.delta(snapshot(project("z")), {1: counters(3)}))
    view.apply(0, a.delta(snapshot(), {}))  # partition 0 revoked at 0 s: 6 s + overtime
    view.forget(1)  # worker 1 exited at 0 s: 18 s + overtime
    for second in range(1, 37):
        now[0] = float(second)
        view.observe(second % 2 == 0, frozenset({second}))  # churn: never quiet for long
        expected = (5 if second < revoked_until else 0) + (3 if second < exited_until else 0)
        assert accepted(view) == expected, second
    merged = view.snapshot()
    assert merged is not None and merged.projects == ()


def test_with_shared_state_what_another_instance_took_goes_once_the_workers_settle() -> None:
    """With state shared by several collector instances, a partition a live worker released
    that no worker here holds once all of them have reported a settled rebalance since went
    to another instance, which exports it now: it goes at once, not after the hold (under
    churn, holds chained one after another would show it twice for as long as it lasts).
    A report taken before the release says nothing; nor does an unsettled one, nor one of a
    collector whose workers have not all reported; what a worker that exited held waits."""
    now, sent = [0.0], [0.0]
    view = MergedView("USD", hold_s=18.0, clock=lambda: now[0], revoked_s=6.0, shared_by=2)
    a, b = DeltaSender(lambda: sent[0]), DeltaSender(lambda: sent[0])

    def at(second: float) -> None:
        now[0] = sent[0] = second

    at(1.0)
    view.apply(0, a.delta(snapshot(project("x")), {0: counters(5)}))
    view.apply(1, b.delta(snapshot(project("z")), {1: counters(3)}))
    at(2.0)
    view.apply(0, a.delta(snapshot(), {}, settled=False))  # a rebalance: partition 0 revoked
    at(2.5)
    view.apply(1, b.delta(snapshot(project("z")), {1: counters(3)}))  # not rejoined yet
    assert accepted(view) == 8
    at(3.0)
    view.apply(0, a.delta(snapshot(), {}))  # assigned nothing
    view.apply(1, b.delta(snapshot(project("z")), {1: counters(3)}, settled=False))
    assert accepted(view) == 8  # worker 1 is rejoining: partition 0 may come to it
    at(3.5)
    view.apply(1, b.delta(snapshot(project("z")), {1: counters(3)}))  # settled without it
    assert accepted(view) == 3  # another instance holds partition 0
    merged = view.snapshot()
    assert merged is not None and [p.name for p in merged.projects] == ["z"]
    # a worker that exited: its partitions wait for its replacement, settled or not
    view.forget(1)
    at(4.0)
    c = DeltaSender(lambda: sent[0])
    view.apply(1, c.delta(snapshot(), {}))
    view.apply(0, a.delta(snapshot(), {}))
    assert accepted(view) == 3
    at(19.0)
    assert accepted(view) == 3
    at(30.0)  # nobody took it: past its hold and the workers quiet (never observed here)
    assert accepted(view) == 0


@pytest.mark.parametrize("shared_by", [3, 0], ids=["a-worker-missing", "own-state"])
def test_a_release_waits_for_every_worker_and_for_shared_state(shared_by: int) -> None:
    """Until every worker has reported (a replacement starting), and with state of its own
    (no other instance can take a partition), a released partition waits for its time."""
    now, sent, workers = [0.0], [0.0], 2
    view = MergedView("USD", hold_s=18.0, clock=lambda: now[0], revoked_s=6.0, shared_by=shared_by)
    senders = [DeltaSender(lambda: sent[0]) for _ in range(workers)]
    for index, sender in enumerate(senders):
        view.apply(index, sender.delta(snapshot(), {index: counters(2)}))
    now[0] = sent[0] = 1.0
    view.apply(0, senders[0].delta(snapshot(), {}))  # partition 0 released
    for index, sender in enumerate(senders[1:], 1):
        view.apply(index, sender.delta(snapshot(), {index: counters(2)}))
    assert accepted(view) == 2 * workers
    now[0] = 7.5  # its time is up (the workers were never observed quiet)
    assert accepted(view) == 2 * workers - 2
