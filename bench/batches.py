"""What the batch size costs per event, in process: two pipelines, one batch size each,
fed the same records in turn, so that the machine's drift falls on both alike.

Each pipeline has its engine and SQLite state; every `--chunk` events go through the first
in batches of its size and then through the second (records made afresh per batch, as a
source polls them). After the first fifth, the CPU time of `Pipeline.process` is summed per
pipeline. The same size on both sides gives the order's own effect (≈ 1–3% here).

    python -m bench.batches --sizes 5000,10000 [--events 200000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import table, write
from bench.ingest import PARTITIONS, TOPIC, delivered, polled
from collector.engine.engine import Engine
from collector.engine.settings import EngineSettings
from collector.pipeline import Pipeline
from collector.runtime import tune_garbage_collector, utc_now
from collector.state.sqlite import SqliteStore


def main(sizes: list[int], count: int = 200_000, chunk: int = 20_000) -> dict[str, Any]:
    tune_garbage_collector()  # as `outcomes collect` does
    records = delivered(count)
    spent = [0.0] * len(sizes)
    measured = 0
    with tempfile.TemporaryDirectory() as directory:
        pipelines = []
        for index in range(len(sizes)):
            store = SqliteStore(Path(directory) / f"state-{index}.db")
            engine = Engine(EngineSettings(), utc_now)
            pipeline = Pipeline(engine, store, None, publish=lambda _: None)
            pipeline.assign(TOPIC, list(range(PARTITIONS)))
            pipelines.append((pipeline, store))
        for start in range(0, count, chunk):
            part = records[start : start + chunk]
            settled = start >= count // 5
            measured += len(part) if settled else 0
            for index, ((pipeline, _), size) in enumerate(zip(pipelines, sizes, strict=True)):
                batches = [polled(part[at : at + size]) for at in range(0, len(part), size)]
                started = time.process_time()
                for batch in batches:
                    pipeline.process(batch)
                if settled:
                    spent[index] += time.process_time() - started
        for _, store in pipelines:
            store.close()
    per_event = [seconds / measured * 1e6 for seconds in spent]
    rows = [
        (f"batches of {size:,}", f"{us:.2f} µs/event")
        for size, us in zip(sizes, per_event, strict=True)
    ]
    rows.append((f"{sizes[-1]:,} against {sizes[0]:,}", f"{per_event[-1] / per_event[0]:.3f}"))
    table(f"Pipeline.process by batch size ({count:,} mixed events, in turn by {chunk:,})", rows)
    result = {"events": count, "chunk": chunk, "sizes": sizes, "process_us": per_event}
    write("batches", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5000,10000", help="batch sizes, comma-separated")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=20_000)
    args = parser.parse_args()
    main([int(size) for size in args.sizes.split(",")], args.events, args.chunk)
