"""Where the CPU goes per event, end to end: the collector as deployed beside the bare
consumer it is measured against, on one preloaded topic of mixed events.

Reads the kernel's per-thread CPU time (/proc/<pid>/task/<tid>/stat, Linux) of every
process involved while it works through the topic, between two readings of its event
counter (start-up, the group join and the first fifth of the topic excluded, as in
bench.throughput), and reports for each part its share of
a core and its CPU microseconds per event: the collector's ingest thread (its busiest),
its other threads, the fetcher process (the Kafka consumer, decoding a share of the
records) — or, with `--workers N`, the N worker processes (each a whole pipeline) — and
the broker. Then the same for the tuned bare kafka-python consumer (run in
this process). The sum against the machine's cores is the ceiling the throughput ratios
meet (docs/PERFORMANCE.md, "Where the CPU goes").
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import events_counted, preload, realistic_records, table, write
from bench.peers import confluent_rate, kafka_python_rate
from bench.throughput import SETTLED_SHARE
from collector.embedded import free_port
from tests.support.brokers import KINDS, Broker, running_broker
from tests.support.processes import start_collect_process

PARTITIONS = 6
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def thread_ticks(pid: int) -> dict[int, int]:
    """CPU ticks (user + system) of each thread of process `pid` so far."""
    ticks = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ticks[int(tid)] = int(fields[11]) + int(fields[12])
    return ticks


def children(pid: int) -> list[int]:
    found = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            listing = Path(f"/proc/{pid}/task/{tid}/children").read_text()
        except OSError:  # the thread ended meanwhile (a request served, say)
            continue
        found += [int(child) for child in listing.split()]
    return found


def reading(collector: int, broker: int | None) -> dict[str, dict[int, int]]:
    """Ticks per thread of the collector, its child processes (the fetcher), the broker."""
    fetcher: dict[int, int] = {}
    for child in children(collector):
        fetcher.update(thread_ticks(child))
    return {
        "collector": thread_ticks(collector),
        "fetcher": fetcher,
        "broker": thread_ticks(broker) if broker else {},
    }


def spent_s(before: dict[int, int], after: dict[int, int]) -> dict[int, float]:
    return {tid: (ticks - before.get(tid, 0)) / TICKS_PER_S for tid, ticks in after.items()}


def collector_cpu(broker: Broker, topic: str, count: int, **settings: str) -> dict[str, float]:
    """CPU seconds per event of each part while `outcomes collect` works through `topic`."""
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        process = start_collect_process(
            broker, topic, f"cpu-{uuid.uuid4().hex[:6]}", str(Path(directory) / "s.db"), port,
            log=None, bootstrap_servers=None, **settings,
        )  # fmt: skip
        try:
            while (first := events_counted(port)) <= count * SETTLED_SHARE:
                time.sleep(0.05)
            started, before = time.perf_counter(), reading(process.pid, broker.pid)
            while (last := events_counted(port)) < count * 0.9:
                time.sleep(0.2)
            elapsed, after = time.perf_counter() - started, reading(process.pid, broker.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
    events = last - first
    collector = spent_s(before["collector"], after["collector"])
    ingest = max(collector.values())
    parts = {
        "ingest thread": ingest,
        "collector's other threads": sum(collector.values()) - ingest,
        "fetcher process": sum(spent_s(before["fetcher"], after["fetcher"]).values()),
        "broker": sum(spent_s(before["broker"], after["broker"]).values()),
    }
    return {
        "events_per_s": events / elapsed,
        **{f"{part}_us": spent / events * 1e6 for part, spent in parts.items()},
        **{f"{part}_cores": spent / elapsed for part, spent in parts.items()},
    }


def bare_cpu(broker: Broker, topic: str, count: int, client: str) -> dict[str, float]:
    """A bare consumer that only counts records (this process, all its threads; `client`:
    the tuned kafka-python consumer or confluent-kafka) and the broker."""
    pid = broker.pid
    before_broker = thread_ticks(pid) if pid else {}
    before = os.times()
    if client == "kafka-python":
        rate = kafka_python_rate(broker.bootstrap_servers, topic, count, tuned=True)
    else:
        rate = confluent_rate(broker.bootstrap_servers, topic, count)
    after, elapsed = os.times(), count / rate  # the group join's CPU counts, not its wait
    broker_s = sum(spent_s(before_broker, thread_ticks(pid)).values()) if pid else 0.0
    consumer_s = (after.user - before.user) + (after.system - before.system)
    return {
        "events_per_s": rate,
        "consumer_us": consumer_s / count * 1e6,
        "broker_us": broker_s / count * 1e6,
        "consumer_cores": consumer_s / elapsed,
        "broker_cores": broker_s / elapsed,
    }


BARE: dict[str, str] = {
    "kafka-python": "bare kafka-python consumer, tuned",
    "confluent": "bare confluent-kafka consumer",
}
PARTS = ("ingest thread", "collector's other threads", "fetcher process", "broker")
COLLECTOR_PARTS = PARTS[:3]
"""What the collector spends (the broker's share is the same for every consumer)."""


def main(
    count: int, broker_kind: str, sources: list[str], workers: str, rounds: int = 3
) -> dict[str, Any]:
    """Every source's bare consumer, then the collector with each source, on one topic;
    `rounds` times over, alternating, so each ratio is of two measurements taken minutes
    apart at most. Reported: the median of each figure, and each round's ratios."""
    measured: list[tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]] = []
    with running_broker(broker_kind) as broker:
        topic = f"cpu-{uuid.uuid4().hex[:6]}"
        broker.create_topics({topic: PARTITIONS, f"{topic}.dlq": 1})
        preload(broker.bootstrap_servers, topic, realistic_records(count))
        for _ in range(rounds):
            bare = {
                client: bare_cpu(broker, topic, count, client)
                for client in ("kafka-python", *(s for s in sources if s != "kafka-python"))
            }
            collectors = {}
            for source in sources:
                settings = {"workers": workers}
                if source != "kafka-python":
                    settings["source"] = source
                collectors[source] = collector_cpu(broker, topic, count, **settings)
                collectors[source]["collector_us"] = sum(
                    collectors[source][f"{part}_us"] for part in COLLECTOR_PARTS
                )
            measured.append((bare, collectors))
    ratios = {
        source: [c[source]["collector_us"] / b["kafka-python"]["consumer_us"] for b, c in measured]
        for source in sources
    }
    bare, collectors = _medians([b for b, _ in measured]), _medians([c for _, c in measured])
    _report(broker_kind, count, workers, bare=bare, collectors=collectors, ratios=ratios)
    result = {
        "broker": broker_kind,
        "events": count,
        "workers": workers,
        "rounds": rounds,
        "bare": bare,
        "collectors": collectors,
        "ratios_by_round": ratios,
        "rounds_measured": [{"bare": b, "collectors": c} for b, c in measured],
    }
    write(f"cpu-{broker_kind}" + ("" if workers == "auto" else f"-workers{workers}"), result)
    return result


def _medians(runs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Each consumer's figures: the median over the rounds, figure by figure."""
    return {
        name: {key: statistics.median(run[name][key] for run in runs) for key in figures}
        for name, figures in runs[0].items()
    }


def _report(
    broker_kind: str,
    count: int,
    workers: str,
    *,
    bare: dict[str, dict[str, float]],
    collectors: dict[str, dict[str, float]],
    ratios: dict[str, list[float]],
) -> None:
    anchor = bare["kafka-python"]["consumer_us"]
    rows = []
    for client, measured in bare.items():
        rows.append((BARE[client], f"{measured['events_per_s']:,.0f} events/s"))
        rows.append(("  the consumer (all its threads)", _cost(measured, "consumer")))
    children = "fetcher process" if workers == "1" else "worker processes"
    cores = os.cpu_count() or 1
    for source, measured in collectors.items():
        rate = measured["events_per_s"] / bare["kafka-python"]["events_per_s"]
        speed = f"{measured['events_per_s']:,.0f} events/s = {rate:.2f}x tuned kafka-python"
        rows.append((f"collector, source: {source}, workers: {workers}", speed))
        rows += [
            (f"  {children if p == 'fetcher process' else p}", _cost(measured, p)) for p in PARTS
        ]
        own_us = measured["collector_us"]
        versus = f"{own_us / anchor:.2f}x the tuned kafka-python consumer's"
        if source != "kafka-python":
            versus += f", {own_us / bare[source]['consumer_us']:.2f}x bare {source}'s"
        rows.append(("  the collector in all", f"{own_us:5.1f} µs/event = {versus}"))
        each = ", ".join(f"{ratio:.2f}x" for ratio in ratios[source])
        median = statistics.median(ratios[source])
        rows.append(("  against kafka-python, round by round", f"{each} (median {median:.2f}x)"))
        rows.append(
            ("  the ceiling it sets", f"{cores / own_us * 1e6:,.0f} events/s on {cores} cores")
        )
    rounds = len(next(iter(ratios.values())))
    table(
        f"CPU per event on {broker_kind} ({count:,} mixed events, medians of {rounds} rounds)", rows
    )


def _cost(measured: dict[str, float], part: str) -> str:
    return f"{measured[f'{part}_us']:5.1f} µs/event  ({measured[f'{part}_cores']:.0%} of a core)"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--broker", choices=KINDS, default="embedded")
    parser.add_argument(
        "--sources", default="kafka-python,confluent",
        help="the collector's sources to measure, each beside its bare client",
    )  # fmt: skip
    parser.add_argument(
        "--workers", default="auto", help="the collector's --workers (default: its default)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (medians)")
    args = parser.parse_args()
    main(args.events, args.broker, args.sources.split(","), args.workers, args.rounds)
