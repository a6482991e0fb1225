"""Two versions of the collector, side by side: CPU per event of each, in the same seconds.

This machine's speed moves by 1.5–2× within minutes, more than most changes to the
collector's cost; two runs a minute apart cannot tell them apart. Here the code at a git
revision (`--before`, checked out into a temporary worktree) and the code of this checkout
each run `outcomes collect` at their defaults (`workers: auto`), each in its own consumer
group with its own state, reading one preloaded topic of mixed events at the same time. Over
the seconds both are between `SETTLED_SHARE` and 90% of the topic, the CPU time of each one's
process tree (`/proc`) is divided by the events it counted. Who starts first alternates by
round; the ratio of each round and their median are reported.

    python -m bench.side_by_side --before d07c179 [--events 300000] [--rounds 10]
        [--compile-before] [--source confluent]

The checkout runs as it is (pure, or compiled by `make compiled`); `--compile-before` builds
the revision's compiled modules as its own setup.py lists them, so two compiled sets can be
compared. `--source confluent` runs both with `source: confluent` instead of the default
kafka-python consumer.

Both versions share the cores (four worker processes on two cores here), so a round's
ratio moves by ±20%: the median of ten rounds is the figure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import events_counted, preload, realistic_records, table, write
from bench.cpu import PARTITIONS, children, spent_s, thread_ticks
from bench.throughput import SETTLED_SHARE
from collector.embedded import free_port
from tests.support.brokers import Broker, running_broker
from tests.support.processes import start_collect_process

HERE = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def worktree(revision: str, compiled: bool = False) -> Iterator[Path]:
    """The tree of `revision` of this repository, checked out in a temporary directory;
    with `compiled`, its modules built by mypyc in place as its setup.py lists them."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "tree"
        subprocess.run(
            ["git", "-C", str(HERE), "worktree", "add", "--detach", str(path), revision],
            check=True,
            capture_output=True,
        )
        try:
            if compiled:
                subprocess.run(
                    [sys.executable, "setup.py", "--quiet", "build_ext", "--inplace"],
                    cwd=path,
                    env={**os.environ, "OUTCOMES_COMPILE": "1"},
                    check=True,
                    capture_output=True,
                )
            yield path
        finally:
            subprocess.run(
                ["git", "-C", str(HERE), "worktree", "remove", "--force", str(path)],
                check=False,
                capture_output=True,
            )


def tree_ticks(pid: int) -> dict[int, int]:
    """CPU ticks of every thread of process `pid` and of its child processes."""
    ticks = thread_ticks(pid)
    for child in children(pid):
        ticks.update(thread_ticks(child))
    return ticks


def one_round(
    broker: Broker, topic: str, count: int, trees: dict[str, Path], source: str
) -> dict[str, float]:
    """CPU µs per event of each version over the seconds both read the topic."""
    with tempfile.TemporaryDirectory() as directory:
        ports = {name: free_port() for name in trees}
        processes = {
            name: start_collect_process(
                broker,
                topic,
                f"side-{uuid.uuid4().hex[:6]}",
                str(Path(directory) / f"{name}.db"),
                ports[name],
                tree=str(tree),
                workers="auto",
                source=source,
            )
            for name, tree in trees.items()
        }
        try:
            while min(events_counted(ports[name]) for name in trees) <= count * SETTLED_SHARE:
                time.sleep(0.05)
            first = {name: events_counted(ports[name]) for name in trees}
            before = {name: tree_ticks(process.pid) for name, process in processes.items()}
            while max(events_counted(ports[name]) for name in trees) < count * 0.9:
                time.sleep(0.1)
            after = {name: tree_ticks(process.pid) for name, process in processes.items()}
            last = {name: events_counted(ports[name]) for name in trees}
        finally:
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                process.wait(timeout=30)
    return {
        name: sum(spent_s(before[name], after[name]).values()) / (last[name] - first[name]) * 1e6
        for name in trees
    }


def main(
    before: str,
    count: int = 300_000,
    rounds: int = 10,
    compile_before: bool = False,
    source: str = "kafka-python",
) -> dict[str, Any]:
    measured = []
    with worktree(before, compile_before) as old, running_broker("embedded") as broker:
        topic = f"side-{uuid.uuid4().hex[:6]}"
        broker.create_topics({topic: PARTITIONS, f"{topic}.dlq": 1})
        preload(broker.bootstrap_servers, topic, realistic_records(count))
        for index in range(rounds):
            order = [("before", old), ("after", HERE)]
            trees = dict(order if index % 2 == 0 else reversed(order))
            measured.append(one_round(broker, topic, count, trees, source))
    ratios = [round_["after"] / round_["before"] for round_ in measured]
    label = before + (" (compiled)" if compile_before else "")
    label += "" if source == "kafka-python" else f", source: {source}"
    table(
        f"side by side: {label} and this checkout ({count:,} mixed events, {rounds} rounds)",
        [
            ("before: CPU per event, by round", ", ".join(f"{m['before']:.1f}" for m in measured)),
            ("after: CPU per event, by round", ", ".join(f"{m['after']:.1f}" for m in measured)),
            ("after / before, by round", ", ".join(f"{ratio:.2f}" for ratio in ratios)),
            ("after / before, median", f"{statistics.median(ratios):.3f}"),
        ],
    )
    result = {
        "before": before,
        "compiled_before": compile_before,
        "source": source,
        "events": count,
        "rounds": measured,
        "ratios": ratios,
    }
    write("side-by-side" + ("" if source == "kafka-python" else f"-{source}"), result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="git revision of the code to compare with")
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--compile-before", action="store_true", help="build the revision's compiled modules"
    )
    parser.add_argument(
        "--source", choices=("kafka-python", "confluent"), default="kafka-python",
        help="the Kafka client both collectors consume with",
    )  # fmt: skip
    args = parser.parse_args()
    main(args.before, args.events, args.rounds, args.compile_before, args.source)
