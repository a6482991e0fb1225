"""Control messages in the fetcher process, without a broker: a pause names epochs."""

from __future__ import annotations

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
