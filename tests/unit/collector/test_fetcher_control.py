"""Control messages in the fetcher process, without a broker: a pause names epochs."""

from __future__ import annotations

import marshal
import multiprocessing
from typing import Any

from collector.source import fetcher
from collector.source.kafka import ConsumerSettings


class PausingSource:
    def __init__(self) -> None:
        self.paused: list[list[int]] = []

    def pause(self, partitions: list[int]) -> None:
        self.paused.append(partitions)


def test_a_pause_applies_only_to_partitions_whose_epoch_is_current() -> None:
    data_out, data_in = multiprocessing.Pipe(duplex=False)
    control_out, control_in = multiprocessing.Pipe(duplex=False)
    settings = ConsumerSettings(bootstrap_servers="127.0.0.1:9", topic="t", group_id="g")
    worker = fetcher.Fetcher(settings, data_in, control_out)
    source = PausingSource()
    worker.source = source  # type: ignore[assignment]
    worker._epochs.update({1: 3, 2: 5})
    # partition 1 was assigned again (epoch 3) after the collector paused it at epoch 2:
    # the stale pause must not stop the new owner's fetching
    message: tuple[Any, ...] = (fetcher.PAUSE, {1: 2, 2: 5})
    worker._handle(message)
    assert source.paused == [[2]]
    for end in (data_out, data_in, control_out, control_in):
        end.close()


def test_a_pause_arriving_during_an_assignment_is_judged_by_the_new_epochs() -> None:
    """The collector paused partition 0 (fenced) just as the group assigned it again: the
    fetcher receives the pause inside the assignment callback, before the reply with the
    new epochs. Applied there it would stop the new owner's partition for good."""
    data_out, data_in = multiprocessing.Pipe(duplex=False)
    control_out, control_in = multiprocessing.Pipe(duplex=False)
    settings = ConsumerSettings(bootstrap_servers="127.0.0.1:9", topic="t", group_id="g")
    worker = fetcher.Fetcher(settings, data_in, control_out)
    source = PausingSource()
    worker.source = source  # type: ignore[assignment]
    worker._epochs.update({0: 3, 1: 5})
    control_in.send_bytes(marshal.dumps((fetcher.PAUSE, {0: 3, 1: 5})))
    control_in.send_bytes(marshal.dumps((fetcher.RESUME, {0: None}, {0: 4})))
    reply = worker._await(fetcher.RESUME)
    assert reply[0] == fetcher.RESUME and source.paused == []  # deferred, not applied
    worker._epochs.update(reply[2])  # what the assignment callback does with the reply
    worker._drain()
    assert source.paused == [[1]]  # 0 was assigned again (epoch 4); 1 is still fenced
    for end in (data_out, data_in, control_out, control_in):
        end.close()
