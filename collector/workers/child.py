"""A worker process: one full pipeline (consumer, engine, state, dead letters) of a
collector started with `--workers N`. It reports to the collector over a pipe: its
snapshots (as deltas) and, twice a second, its readiness; it stops when the collector
says so or goes away."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from multiprocessing.connection import Connection
from typing import Any

from collector.config import Settings
from collector.declarations.registry import DeclarationRegistry
from collector.engine.formulas import exact
from collector.ingestion import Ingestion, Role
from collector.runtime import setup_logging, tune_garbage_collector, utc_now
from collector.workers.merge import DeltaSender
from collector.workers.protocol import DELTA, STATUS, STOP, WorkerStatus
from schemas.snapshot import HealthSnapshot, Snapshot

log = logging.getLogger(__name__)
STATUS_INTERVAL_S = 0.5


class _Link:
    """The worker's end of the pipe: snapshots as deltas, and its status."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()
        self._deltas = DeltaSender()

    def publish(
        self, snapshot: Snapshot, partitions: dict[int, HealthSnapshot], settled: bool
    ) -> None:
        self.send((DELTA, self._deltas.delta(snapshot, partitions, settled)))

    def send(self, message: tuple[Any, ...]) -> None:
        with self._lock:
            self._connection.send(message)


def run_worker(
    settings: Settings, connection: Connection, embedded_broker: bool, log_level: int
) -> None:
    """The worker's entry point (multiprocessing target). `settings`: the collector's,
    with its broker's address; `embedded_broker`: that broker starts empty (stored
    offsets are not trusted)."""
    # Ctrl-C, or a SIGTERM sent to the whole group (systemd's default), reaches workers too:
    # the collector decides when they stop (STOP), or its pipe closes when it dies
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    setup_logging(log_level)
    tune_garbage_collector()
    link = _Link(connection)
    declarations = DeclarationRegistry(settings.targets, exact(settings.default_hourly_rate))
    declarations.reload()

    def publish(snapshot: Snapshot) -> None:  # the collector adds its declarations and OTLP
        link.publish(snapshot, ingestion.partition_health(), ingestion.status.settled)

    ingestion = Ingestion(
        settings, lambda: declarations.catalog, publish, utc_now,
        Role(worker=True, embedded_broker=embedded_broker),
    )  # fmt: skip
    ingestion.start()
    stopping = threading.Event()
    if settings.targets is not None:
        threading.Thread(
            target=_watch, args=(declarations, ingestion, stopping, settings.targets_poll_s),
            name="targets", daemon=True,
        ).start()  # fmt: skip
    reporter = threading.Thread(
        target=_report, args=(ingestion, link, stopping), name="worker-status", daemon=True
    )
    reporter.start()
    try:
        while True:
            if connection.poll(STATUS_INTERVAL_S):
                if connection.recv()[0] == STOP:
                    break
            elif ingestion.wait(0):
                break  # ingestion failed: exit, the collector starts a new worker
    except (EOFError, OSError):
        log.warning("the collector went away: stopping")
    stopping.set()
    ingestion.stop()
    reporter.join()
    with contextlib.suppress(OSError):  # the collector is gone
        link.send((STATUS, _status(ingestion)))
    connection.close()
    raise SystemExit(1 if ingestion.failure is not None else 0)


def _watch(
    declarations: DeclarationRegistry, ingestion: Ingestion, stopping: threading.Event,
    interval_s: float,
) -> None:  # fmt: skip
    """Reload the declarations as the collector does; a bad edit keeps the last good one."""
    while not stopping.wait(interval_s):
        try:
            result = declarations.reload()
            if result.changed:
                ingestion.set_policy(result.catalog)
        except Exception:
            log.exception("reloading declarations failed")


def _report(ingestion: Ingestion, link: _Link, stopping: threading.Event) -> None:
    while not stopping.wait(STATUS_INTERVAL_S):
        try:
            link.send((STATUS, _status(ingestion)))
        except OSError:
            return


def _status(ingestion: Ingestion) -> WorkerStatus:
    status = ingestion.status
    failed = [f"collector failed: {ingestion.failure}"] if ingestion.failure is not None else []
    partitions = tuple(sorted(partition for _, partition in status.assigned))
    return WorkerStatus((*failed, *status.errors()), partitions, status.loaded)
