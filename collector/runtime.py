"""Process-wide settings shared by the collector and its fetcher process."""

from __future__ import annotations

import gc
import importlib.util
import logging
import math
import os
import sys
from datetime import UTC, datetime
from importlib.machinery import EXTENSION_SUFFIXES
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Final

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str | int) -> None:
    logging.basicConfig(
        level=level.upper() if isinstance(level, str) else level,
        format=LOG_FORMAT,
        stream=sys.stderr,
    )
    root_level = logging.getLogger().level
    logging.getLogger("kafka").setLevel(max(logging.WARNING, root_level))
    # joins, leaves and failed joins of the consumer group: few lines, and what an
    # operator needs when partitions do not arrive
    logging.getLogger("kafka.coordinator").setLevel(root_level)
    # kafka-python's "Task … ran for 0.1s (>0.100s threshold) … blocking the event loop":
    # its own I/O thread timing itself on a busy machine, repeated, nothing to act on
    logging.getLogger("kafka.net.selector").setLevel(max(logging.ERROR, root_level))


def effective_log_level() -> int:
    """The least severe level this process logs, `logging.disable` included: what a
    child process should log at to say no more than its parent."""
    disabled = logging.root.manager.disable
    return max(logging.getLogger().getEffectiveLevel(), disabled + 1 if disabled else 0)


YOUNG_COLLECTION_AFTER: Final = 200_000
"""Objects the cycle collector lets be made (net of those freed) before it walks the young
ones: more than a polled batch holds at once (10,000 records, each a tuple with its list of
header tuples, and kafka-python's own record: up to ~100,000), so a collection seldom falls
mid-batch, where it would walk every record still held. The engine keeps nothing per event
for the commit but a run's memo (`SeenBatch`, `RunRow`), so between batches the count
barely grows."""


def tune_garbage_collector() -> None:
    """Ingestion allocates many short-lived, acyclic objects per event; with CPython's
    default thresholds the cycle collector runs every 700 allocations and keeps walking
    the long-lived state. Start-up objects are frozen out of collection and young
    collections run when `YOUNG_COLLECTION_AFTER` objects are held (in process, batches of
    10,000 fresh records: the collector's time 2.3 µs an event at 100,000, 0.7 at this;
    docs/PERFORMANCE.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_AFTER, 10, 10)


def available_cpus(
    cgroup_root: Path = Path("/sys/fs/cgroup"), membership: Path = Path("/proc/self/cgroup")
) -> int:
    """The CPUs this process may use: those it may run on (its affinity), fewer under a
    cgroup v2 CPU limit (`cpu.max` of its cgroup or an ancestor: a container's or a pod's
    CPU limit, a systemd CPUQuota), rounded up; at least 1."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux
    cpus = len(affinity(0)) if affinity is not None else os.cpu_count() or 1
    limit = _cgroup_cpu_limit(cgroup_root, membership)
    if limit is not None:
        cpus = min(cpus, math.ceil(limit))
    return max(1, cpus)


def _cgroup_cpu_limit(root: Path, membership: Path) -> float | None:
    """The tightest `cpu.max` quota / period from this process's cgroup up to the root."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    path = next((line[3:] for line in lines if line.startswith("0::")), None)
    if path is None:  # cgroup v1 only
        return None
    group = root / path.strip("/")
    limits = [
        limit
        for directory in (group, *group.parents)
        if directory == root or root in directory.parents
        for limit in [_cpu_max(directory)]
        if limit is not None
    ]
    return min(limits, default=None)


def _cpu_max(directory: Path) -> float | None:
    """A cgroup's CPU limit in CPUs (`cpu.max`: quota and period), or None for none."""
    try:
        quota, period = (directory / "cpu.max").read_text().split()
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def collector_version() -> str:
    try:
        return version("outcome-telemetry-collector")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def engine_build() -> str:
    """`compiled` when the engine runs as the C extensions mypyc built (`make compiled`),
    `pure` when Python runs its source: said at start, since they differ in CPU per event."""
    spec = importlib.util.find_spec("collector.engine.engine")
    origin = spec.origin if spec is not None else None
    compiled = origin is not None and origin.endswith(tuple(EXTENSION_SUFFIXES))
    return "compiled" if compiled else "pure"


def utc_now() -> datetime:
    return datetime.now(UTC)
