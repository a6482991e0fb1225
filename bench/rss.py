"""Resident memory of `outcomes collect` as deployed: the RSS of its whole process tree
(the collector, its workers or its fetcher process, the multiprocessing resource tracker),
idle after the group join and then holding N projects, with its default (one worker per
CPU) and with one pipeline (`--workers 1`).

    python -m bench.rss [--projects 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import events_counted, preload, realistic_records, table, write
from bench.cpu import children
from collector.embedded import EmbeddedBroker, free_port
from tests.support.processes import start_collect_process

EVENTS_PER_PROJECT = 5
"""Events per project, spread at random (a few projects get none: counted, not assumed)."""


def tree_rss(pid: int) -> int:
    """Bytes resident in process `pid` and all its descendants."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            pending += children(current)
        except OSError:  # it ended meanwhile
            continue
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        total += int(kib) * 1024
    return total


def settle(port: int, expected: int) -> None:
    deadline = time.monotonic() + 300
    while events_counted(port) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the collector did not count {expected} events")
        time.sleep(0.2)
    time.sleep(2.0)  # its next snapshots published, their text rendered once


def measure(broker: EmbeddedBroker, workers: str, projects: int) -> dict[str, float]:
    topic = f"rss-{uuid.uuid4().hex[:6]}"
    broker.create_topics({topic: 6, f"{topic}.dlq": 1})
    records = realistic_records(projects * EVENTS_PER_PROJECT, projects=projects, seed=5)
    exported = len({record.key for record in records})
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        process = start_collect_process(
            broker, topic, topic, str(Path(directory) / "s.db"), port, workers=workers,
            max_projects=str(2 * projects),
        )  # fmt: skip
        try:
            preload(broker.bootstrap_servers, topic, realistic_records(1, projects=1, seed=4))
            settle(port, 1)  # joined: the idle figure includes what a running group costs
            idle = tree_rss(process.pid)
            preload(broker.bootstrap_servers, topic, records)
            settle(port, len(records) + 1)
            loaded = tree_rss(process.pid)
            processes = 1 + len(children(process.pid))
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {
        "processes": processes,
        "idle_bytes": idle,
        "loaded_bytes": loaded,
        "projects": exported,
        "bytes_per_project": (loaded - idle) / exported,
    }


def main(projects: int) -> dict[str, object]:
    with EmbeddedBroker() as broker:
        measured = {workers: measure(broker, workers, projects) for workers in ("auto", "1")}
    rows = []
    for workers, label in (("auto", "defaults (one worker per CPU)"), ("1", "--workers 1")):
        m = measured[workers]
        rows += [
            (f"{label}: processes", f"{m['processes']:.0f}"),
            (f"{label}: idle after the join", f"{m['idle_bytes'] / 2**20:.0f} MiB"),
            (
                f"{label}: with {m['projects']:,.0f} projects",
                f"{m['loaded_bytes'] / 2**20:.0f} MiB"
                f" ({m['bytes_per_project'] / 1024:.1f} KiB per project,"
                f" {m['bytes_per_project'] * 1000 / 2**20:.1f} MiB per 1,000)",
            ),
        ]
    table(f"resident memory of the process tree ({projects:,} projects)", rows)
    result: dict[str, object] = {"events_per_project": EVENTS_PER_PROJECT, **measured}
    write("rss", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    main(parser.parse_args().projects)
