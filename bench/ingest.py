"""The collector's ingest side alone, in-process: what one event costs after the fetch.

Realistic records, as the fetcher process delivers them, go through the real pipeline
(decode and validation, dedup and aggregation, one SQLite transaction per batch) in one
process with the collector's GC tuning. Reported per event, best of several runs:
decode alone, `Engine.apply` alone, and the whole `Pipeline.process` on records made
afresh for each batch, as a source polls them (the difference is the batch's state commit
and the loop around it), with the cycle collector's share of it. No broker: this is the
ceiling of one ingest thread, the number to compare with the fetcher's cost
(docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import gc
import marshal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import realistic_records, table, write
from collector.config import Settings
from collector.engine.engine import Engine
from collector.engine.settings import EngineSettings
from collector.pipeline import Pipeline
from collector.pipeline.decode import decode
from collector.runtime import tune_garbage_collector, utc_now
from collector.source.fetcher import row_of
from collector.source.process import records_of
from collector.source.records import SourceRecord
from collector.state.sqlite import SqliteStore
from schemas.fast_path import Timed

TOPIC = "bench"
PARTITIONS = 6
MAX_EVENT_BYTES = 1_048_576
BATCH: int = Settings.model_fields["max_poll_records"].default
"""Records a batch: as many as the collector polls at most by default."""


def delivered(count: int, structured_share: float = 0.5) -> list[SourceRecord]:
    """Records as the fetcher hands them over (plain headers, sizes measured)."""
    records = []
    for offset, record in enumerate(realistic_records(count, structured_share=structured_share)):
        size = len(record.key) + len(record.value) + sum(len(n) + len(v) for n, v in record.headers)
        partition = offset % PARTITIONS
        fields = (record.key, record.headers, record.value, 0, size)
        records.append(SourceRecord(TOPIC, partition, offset, *fields))
    return records


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of `runs` timings of `work` (the least disturbed by the machine)."""
    fastest = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


def apply_all(events: list[Timed], batch: int) -> None:
    engine = Engine(EngineSettings(), utc_now)
    for start in range(0, len(events), batch):
        at = engine.instant()
        for index in range(start, min(start + batch, len(events))):
            event, event_s = events[index]
            engine.apply(event, index % PARTITIONS, at, event_s)


def polled(records: list[SourceRecord]) -> list[SourceRecord]:
    """`records` made afresh, as a source hands over each poll: new tuples and header
    lists, which the cycle collector sees while the batch holds them."""
    return [
        SourceRecord(r.topic, r.partition, r.offset, r.key, [(n, v) for n, v in r.headers],
                     r.value, r.timestamp_ms, r.serialized_size)
        for r in records
    ]  # fmt: skip


def process_all(records: list[SourceRecord], batch: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = SqliteStore(Path(directory) / "state.db")
        pipeline = Pipeline(Engine(EngineSettings(), utc_now), store, None, publish=lambda _: None)
        pipeline.assign(TOPIC, list(range(PARTITIONS)))
        for start in range(0, len(records), batch):
            pipeline.process(polled(records[start : start + batch]))
        store.close()


class CollectorTime:
    """Wall time the cycle collector spent while it is installed (`gc.callbacks`)."""

    def __init__(self) -> None:
        self.spent_s = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.spent_s += time.perf_counter() - self._started

    def during(self, work: Callable[[], object]) -> float:
        """Seconds collecting while `work` runs."""
        self.spent_s = 0.0
        gc.callbacks.append(self)
        try:
            work()
        finally:
            gc.callbacks.remove(self)
        return self.spent_s


def main(count: int = 50_000, batch: int = BATCH, runs: int = 5) -> dict[str, float]:
    records = delivered(count)
    binary, structured = delivered(count, 0.0), delivered(count, 1.0)
    tune_garbage_collector()  # as `outcomes collect` does
    binary_s = best_of(runs, lambda: [decode(r, MAX_EVENT_BYTES) for r in binary])
    structured_s = best_of(runs, lambda: [decode(r, MAX_EVENT_BYTES) for r in structured])
    decode_s = best_of(runs, lambda: [decode(r, MAX_EVENT_BYTES) for r in records])
    events = [decode(r, MAX_EVENT_BYTES) for r in records]
    # the records' trip from the fetcher process, as it sends them (`row_of`) and the
    # collector takes them in (`records_of`): raw, or decoded there
    fields = [(r.offset, r.key, list(r.headers), r.value, r.timestamp_ms, r.size) for r in records]
    raw_send_s = best_of(runs, lambda: marshal.dumps([row_of(f, False) for f in fields]))
    sent = marshal.dumps([row_of(f, False) for f in fields])
    raw_receive_s = best_of(runs, lambda: records_of(TOPIC, 0, marshal.loads(sent)))
    predecode_s = best_of(runs, lambda: marshal.dumps([row_of(f, True) for f in fields]))
    sent = marshal.dumps([row_of(f, True) for f in fields])
    rebuild_s = best_of(runs, lambda: records_of(TOPIC, 0, marshal.loads(sent)))
    apply_s = best_of(runs, lambda: apply_all(events, batch))
    process_s = best_of(runs, lambda: process_all(records, batch))
    polled_s = best_of(runs, lambda: polled(records))
    collecting_s = CollectorTime().during(lambda: process_all(records, batch))
    result = {
        "events": count,
        "batch": batch,
        "structured_share": 0.5,
        "decode_binary_us": binary_s / count * 1e6,
        "decode_structured_us": structured_s / count * 1e6,
        "decode_us": decode_s / count * 1e6,
        "fetcher_raw_us": raw_send_s / count * 1e6,
        "collector_raw_us": raw_receive_s / count * 1e6,
        "fetcher_decode_us": predecode_s / count * 1e6,
        "collector_rebuild_us": rebuild_s / count * 1e6,
        "apply_us": apply_s / count * 1e6,
        "process_us": process_s / count * 1e6,
        "polled_us": polled_s / count * 1e6,
        "commit_and_loop_us": (process_s - polled_s - decode_s - apply_s) / count * 1e6,
        "garbage_collection_us": collecting_s / count * 1e6,
        "ceiling_per_s": count / process_s,
    }
    table(
        f"ingest side in-process ({count:,} mixed events, batches of {batch:,}, best of {runs})",
        [
            ("decode + validation, binary mode", f"{result['decode_binary_us']:.2f} µs/event"),
            (
                "decode + validation, structured mode",
                f"{result['decode_structured_us']:.2f} µs/event",
            ),
            ("decode + validation, the mix (half each)", f"{result['decode_us']:.2f} µs/event"),
            ("sent raw by the fetcher process: there", f"{result['fetcher_raw_us']:.2f} µs/event"),
            ("  taken in by the collector", f"{result['collector_raw_us']:.2f} µs/event"),
            (
                "decoded in the fetcher process instead: there",
                f"{result['fetcher_decode_us']:.2f} µs/event",
            ),
            ("  taken in by the collector", f"{result['collector_rebuild_us']:.2f} µs/event"),
            ("records made afresh, as each poll", f"{result['polled_us']:.2f} µs/event"),
            ("Engine.apply", f"{result['apply_us']:.2f} µs/event"),
            ("state commit and the loop around", f"{result['commit_and_loop_us']:.2f} µs/event"),
            ("Pipeline.process in all", f"{result['process_us']:.2f} µs/event"),
            (
                "  of it the cycle collector (one run)",
                f"{result['garbage_collection_us']:.2f} µs/event",
            ),
            ("one ingest thread's ceiling", f"{result['ceiling_per_s']:,.0f} events/s"),
        ],
    )
    write("ingest", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    main(args.events, args.batch, args.runs)
