"""Machine instructions per event in process, counted by valgrind: the one cost figure that
does not move with this machine's speed.

    python -m bench.instructions [--events 20000] [--before REV]

Timings here move by 1.5–2× within minutes (docs/PERFORMANCE.md), so a change of a few
percent shows in no timed bench. Callgrind (valgrind's instruction counter, Debian package
`valgrind`) counts the instructions `Pipeline.process` executes on fresh mixed records (half
structured, as bench.ingest; batches of `--batch`): the same run counted twice differs by
about 0.3%. Reported per event: in all, and decoding, `Engine.apply` and the rest (the
state commit and the loop). Instructions are not time (a cache miss costs more than an
add), but fewer of them on the same work is less work.

It counts the compiled build (callgrind collects inside `Pipeline.process`'s C function:
`make compiled` first). With `--before REV` the same records go through that revision too
(checked out and compiled in a temporary worktree, as bench.side_by_side does), and the
ratio is given. The records are made once here and handed to both, so both count the same
work.
"""

from __future__ import annotations

import argparse
import marshal
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import realistic_records, table, write
from bench.side_by_side import HERE, worktree
from collector.runtime import engine_build

PARTITIONS = 6
PARTS: dict[str, str] = {
    "process": "CPyDef_collector___pipeline___loop___Pipeline___process",
    "decode": "CPyDef_collector___pipeline___decode___decode",
    "apply": "CPyDef_collector___engine___engine___Engine___apply",
}
"""The compiled functions counted (mypyc's names for them), by part."""
LABELS: dict[str, str] = {
    "all": "Pipeline.process in all",
    "decode": "  decoding and validation",
    "apply": "  Engine.apply",
    "rest": "  the state commit and the loop",
}

CHILD = """
import marshal, sys, tempfile
from pathlib import Path
from collector.engine.engine import Engine
from collector.engine.settings import EngineSettings
from collector.pipeline import Pipeline
from collector.runtime import tune_garbage_collector, utc_now
from collector.source.records import SourceRecord
from collector.state.sqlite import SqliteStore
with open(sys.argv[1], "rb") as source:
    rows = marshal.load(source)
batch, partitions = int(sys.argv[2]), int(sys.argv[3])
tune_garbage_collector()
with tempfile.TemporaryDirectory() as directory:
    store = SqliteStore(Path(directory) / "state.db")
    pipeline = Pipeline(Engine(EngineSettings(), utc_now), store, None, publish=lambda _: None)
    pipeline.assign("bench", list(range(partitions)))
    for start in range(0, len(rows), batch):
        pipeline.process([
            SourceRecord("bench", p, o, k, [tuple(h) for h in hs], v, 0, size)
            for p, o, k, hs, v, size in rows[start:start + batch]
        ])
    store.close()
"""
"""What runs under valgrind, in the tree counted: records in, `Pipeline.process` per batch."""


def rows(count: int, batch: int) -> list[tuple[Any, ...]]:
    """(partition, offset, key, headers, value, size) of `count` mixed records, as polls of
    `batch` records hand them over: each project's records in one partition (the record
    key is the project), a batch's records partition by partition (kafka-python returns
    them by partition; confluent-kafka in runs of a fetch per partition)."""
    found = []
    offsets = [0] * PARTITIONS
    for record in realistic_records(count):
        size = len(record.key) + len(record.value) + sum(len(n) + len(v) for n, v in record.headers)
        headers = [list(header) for header in record.headers]
        partition = zlib.crc32(record.key) % PARTITIONS
        found.append((partition, offsets[partition], record.key, headers, record.value, size))
        offsets[partition] += 1
    return [
        row
        for start in range(0, len(found), batch)
        for row in sorted(found[start : start + batch], key=lambda row: row[0])
    ]


def counted(tree: Path, records: Path, batch: int) -> dict[str, int]:
    """Instructions inside each part while `tree`'s compiled pipeline processes `records`."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            f"--toggle-collect={PARTS['process']}",
            sys.executable, "-c", CHILD, str(records), str(batch), str(PARTITIONS),
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(tree)}
        run = subprocess.run(
            command, cwd=tree, env=env, capture_output=True, text=True, check=False
        )
        if run.returncode != 0 or not out.exists():
            raise SystemExit(f"callgrind failed in {tree}:\n{run.stderr[-2000:]}")
        report = subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    found = {part: _inclusive(report, function) for part, function in PARTS.items()}
    if not found["process"]:
        raise SystemExit(f"nothing counted in {tree}: is its build compiled (make compiled)?")
    return found


def _inclusive(report: str, function: str) -> int:
    """The largest inclusive count reported for `function` in its own C file (other lines
    name the headers its inlined parts come from)."""
    pattern = re.compile(rf"^\s*([\d,]+) \([^)]*\)\s+\S*__native_native\.c:{function} ", re.M)
    return max(
        (int(match.group(1).replace(",", "")) for match in pattern.finditer(report)), default=0
    )


def per_event(found: dict[str, int], events: int) -> dict[str, float]:
    return {
        "all": found["process"] / events,
        "decode": found["decode"] / events,
        "apply": found["apply"] / events,
        "rest": (found["process"] - found["decode"] - found["apply"]) / events,
    }


@contextmanager
def _before_tree(revision: str | None) -> Iterator[Path | None]:
    if revision is None:
        yield None
        return
    with worktree(revision, compiled=True) as tree:
        yield tree


def main(count: int = 20_000, batch: int = 5_000, before: str | None = None) -> dict[str, Any]:
    if engine_build() != "compiled":
        raise SystemExit("bench.instructions counts the compiled build: run `make compiled`")
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        raise SystemExit("bench.instructions needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as directory, _before_tree(before) as old:
        records = Path(directory) / "records.marshal"
        records.write_bytes(marshal.dumps(rows(count, batch)))
        trees = {"after": HERE} if old is None else {"before": old, "after": HERE}
        measured = {
            name: per_event(counted(tree, records, batch), count) for name, tree in trees.items()
        }
    lines = []
    for part, label in LABELS.items():
        figures = [f"{measured[name][part]:,.0f}" for name in trees]
        if old is not None:
            figures.append(f"{measured['after'][part] / measured['before'][part]:.3f}")
        lines.append((label, " → ".join(figures[:2]) + (f" ({figures[2]}×)" if old else "")))
    title = f"instructions per event, {count:,} mixed events, batches of {batch:,}"
    table(title + (f": {before} → this checkout" if before else ""), lines)
    result = {"events": count, "batch": batch, "before": before, "per_event": measured}
    write("instructions", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--before", help="git revision to count too (compiled in a worktree)")
    args = parser.parse_args()
    main(args.events, args.batch, args.before)
