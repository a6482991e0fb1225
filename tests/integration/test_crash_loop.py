"""A crash loop at the defaults (`workers: auto`, SQLite state, kafka-python): a collector
kill -9'd at a random moment while events flow, restarted, again and again — and once
frozen with its workers (SIGSTOP, past its session timeout) and thawed. After every cycle,
once it has caught up, every counter and period gauge equals what the events sent so far
imply, and it is ready holding every partition. `make test` runs a few cycles; `make
test-deep` (OUTCOMES_DEEP=1) twenty."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

from collector.embedded import free_port
from schemas.binding import KafkaRecord
from tests.support.brokers import Broker
from tests.support.expected import expected_totals, mismatches
from tests.support.generate import mixed_pairs
from tests.support.live import http_get, parse_series, produce, scrape, total, wait_until
from tests.support.processes import start_collect_process

CYCLES = 20 if os.environ.get("OUTCOMES_DEEP") else 4
PER_CYCLE = 600  # records sent while each cycle's collector runs
FROZEN_S = 10.0  # past the 6 s session timeout: the group drops its members
PARTITIONS = 3  # the `topic` fixture's


def start(broker: Broker, topic: str, state: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    return start_collect_process(
        broker, topic, f"{topic}-loop", str(state), port, log,
        max_poll_records="40", publish_interval_s="0.05", workers="auto",
    )  # fmt: skip


def descendants(pid: int) -> list[int]:
    """The processes started by `pid`, recursively (its workers and their fetchers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def send(broker: Broker, topic: str, records: list[KafkaRecord]) -> None:
    for begin in range(0, len(records), 50):
        produce(broker.bootstrap_servers, topic, records[begin : begin + 50])
        time.sleep(0.1)


def implied(pairs: list[tuple[KafkaRecord, dict[str, Any] | None]]) -> tuple[list[Any], int, int]:
    """(distinct documents, duplicates, malformed) of the records sent so far."""
    distinct: dict[str, dict[str, Any]] = {}
    duplicates = malformed = 0
    for _, document in pairs:
        if document is None:
            malformed += 1
        elif document["id"] in distinct:
            duplicates += 1
        else:
            distinct[document["id"]] = document
    return list(distinct.values()), duplicates, malformed


def settled(url: str, sent: int) -> bool:
    status, text = http_get(url)
    if status != 200:
        return False
    series = parse_series(text)
    counted = total(series, "outcomes_collector_events_total")
    held = total(series, "outcomes_collector_partitions_held")
    ready = http_get(url.replace("/metrics", "/readyz"))[0] == 200
    return counted >= sent and held == PARTITIONS and ready


def test_a_default_collector_killed_and_frozen_again_and_again_counts_exactly(
    broker: Broker, topic: str, tmp_path: Path
) -> None:
    rng = random.Random(39)
    _, pairs = mixed_pairs(39, CYCLES * PER_CYCLE * 9 // 10, CYCLES * PER_CYCLE // 12, CYCLES * 4)
    port, state, log = free_port(), tmp_path / "state.db", tmp_path / "collector.log"
    url = f"http://127.0.0.1:{port}/metrics"
    frozen_in = rng.randrange(CYCLES)
    process = start(broker, topic, state, port, log)
    try:
        for cycle in range(CYCLES):
            chunk = pairs[cycle * PER_CYCLE : (cycle + 1) * PER_CYCLE]
            sender = threading.Thread(
                target=send, args=(broker, topic, [r for r, _ in chunk]), daemon=True
            )
            sender.start()
            time.sleep(rng.uniform(0.3, 1.0))
            if cycle == frozen_in:  # the whole collector paused, as a stalled VM is
                frozen = [process.pid, *descendants(process.pid)]
                for pid in frozen:
                    os.kill(pid, signal.SIGSTOP)
                time.sleep(FROZEN_S)
                for pid in frozen:
                    os.kill(pid, signal.SIGCONT)
            else:
                process.send_signal(signal.SIGKILL)
                process.wait()
                process = start(broker, topic, state, port, log)
            sender.join()
            sent = pairs[: (cycle + 1) * PER_CYCLE]
            try:
                wait_until(partial(settled, url, len(sent)), timeout_s=120, interval_s=0.5)
            except AssertionError as error:
                raise AssertionError(
                    f"cycle {cycle + 1}: {error}; collector log:\n{log.read_text()[-6000:]}"
                ) from None
            series = scrape(url)
            documents, duplicates, malformed = implied(sent)
            counted = (
                total(series, "outcomes_collector_events_total", result="accepted"),
                total(series, "outcomes_collector_events_total", result="duplicate"),
                total(series, "outcomes_collector_rejected_total", reason="malformed"),
            )
            assert counted == (len(documents), duplicates, malformed), f"cycle {cycle + 1}"
            problems = mismatches(series, expected_totals(documents), Fraction(100))
            assert problems == [], f"cycle {cycle + 1}: {problems[:5]}"
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0, "SIGTERM must shut down cleanly"
