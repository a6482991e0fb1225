"""Process-wide settings shared by the collector and its fetcher process."""

from __future__ import annotations

import gc
import logging
import sys

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


def effective_log_level() -> int:
    """The least severe level this process logs, `logging.disable` included: what a
    child process should log at to say no more than its parent."""
    disabled = logging.root.manager.disable
    return max(logging.getLogger().getEffectiveLevel(), disabled + 1 if disabled else 0)


def tune_garbage_collector() -> None:
    """Ingestion allocates many short-lived, acyclic objects per event; with CPython's
    default thresholds the cycle collector runs every 700 allocations and keeps walking
    the long-lived state. Start-up objects are frozen out of collection and young
    collections run ~15x less often (measured: ~7% more events/s end to end)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
