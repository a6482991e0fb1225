"""The worker processes of a collector started with `--workers N` (N > 1).

Python runs one thread's bytecode at a time, so one pipeline uses about one core. With
`--workers N` the collector starts N worker processes (`collector.workers.child`), each
a full pipeline: its own consumer in the group (so the group spreads the partitions over
them), engine, state store connection (claims and fencing keep their writes apart, as
with several collectors) and dead-letter producer. This process serves HTTP and OTLP
from their merged snapshots (`MergedView`) and reports their readiness on /readyz. A
worker that exits is started again (its partitions move to the others meanwhile, and come
back with their state from the store).

Until every worker has joined the group and loaded its partitions, a collector whose
state is one SQLite file serves the numbers stored there (`serve_stored`), as one
pipeline does: a restart is ready at once, and /metrics never goes empty meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Final

from collector.config import Settings
from collector.pipeline.status import SETTLE_SESSIONS, Holding
from collector.runtime import effective_log_level
from collector.state.open import shared_state
from collector.workers.child import run_worker
from collector.workers.merge import MergedView, SnapshotDelta
from collector.workers.protocol import DELTA, STATUS, STOP, WorkerStatus
from schemas.snapshot import Snapshot

log = logging.getLogger(__name__)

RESTART_BACKOFF_S: Final = (1.0, 30.0)
"""The first and the longest wait before a worker that exited is started again."""
STEADY_S: Final = 60.0
"""A worker that ran this long before exiting is restarted after the first wait again."""


@dataclass
class _Slot:
    index: int
    process: BaseProcess | None = None
    connection: Connection | None = None
    status: WorkerStatus | None = None
    published: bool = False
    """It sent a snapshot since it started (its projects are on /metrics)."""
    exited: str | None = None
    """Why the last one of this slot exited, until its replacement reports."""


class WorkerPool:
    def __init__(
        self,
        settings: Settings,
        *,
        embedded_broker: bool,
    ) -> None:
        self.settings = settings
        self.embedded_broker = embedded_broker
        # a project whose partition moves stays shown until its next owner reports it
        session_s = settings.session_timeout_ms / 1000
        hold_s, shared = SETTLE_SESSIONS * session_s, shared_state(settings.state)
        self._view = MergedView(
            settings.currency,
            hold_s=hold_s,
            revoked_s=session_s,
            overtime_s=session_s if shared else hold_s,
            shared_by=settings.workers if shared else 0,
        )
        self._merged: Snapshot | None = None
        self._stored: Snapshot | None = None
        """The stored numbers, served until the workers have taken over."""
        self._stored_partitions: frozenset[int] = frozenset()
        self._settled_at: float | None = None
        """Since when no worker is starting, joining or loading (while `_stored` is served)."""
        self._changed = False
        """A worker reported (or exited) since `_merged` was built."""
        self._holding = Holding(settings.session_timeout_ms)
        """Since when no worker holds a partition (from the start): past SETTLE_SESSIONS
        session timeouts the group is not settling, and /readyz says so even while the
        stored numbers are served. With the stored numbers served, the workers take over
        after as long without holding every stored partition (none starting, joining or
        loading meanwhile; a worker still joining counts as holding still)."""
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._slots = [_Slot(index) for index in range(settings.workers)]
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._holding = Holding(self.settings.session_timeout_ms)
        for slot in self._slots:
            thread = threading.Thread(
                target=self._keep_running, args=(slot,), name=f"worker-{slot.index + 1}"
            )
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
        log.info("started %d workers", len(self._slots))

    def serve_stored(self, snapshot: Snapshot, partitions: Iterable[int]) -> None:
        """Serve `snapshot` (everything stored, loaded before the group join; its numbers
        come from `partitions`) until the workers have taken over."""
        with self._lock:
            self._stored, self._stored_partitions = snapshot, frozenset(partitions)
            if not self._serving_stored():
                return  # they were faster
        log.info("serving the stored state of %d projects", len(snapshot.projects))

    def snapshot(self) -> Snapshot | None:
        """The workers' merged snapshot, built again only when one of them reported."""
        with self._lock:
            if self._serving_stored():
                return self._stored
            if self._changed or self._view.holding:
                self._merged, self._changed = self._view.snapshot(), False
            return self._merged

    def problems(self) -> list[str]:
        """What /readyz reports: every worker's errors, and — unless the stored numbers
        are served meanwhile — the workers still starting, joining or loading."""
        with self._lock:
            problems = [
                f"worker {slot.index + 1}: {error}"
                for slot in self._slots
                if slot.status is not None
                for error in slot.status.errors
            ]
            if not self._serving_stored():
                problems.extend(self._joining())
            else:  # a worker that keeps failing before it joins is still worth a page
                problems.extend(
                    f"worker {slot.index + 1}: {slot.exited}"
                    for slot in self._slots
                    if slot.status is None and slot.exited is not None
                )
            problems.extend(self._unsettled())
        return problems

    def held(self) -> tuple[int, float]:
        """(partitions the workers hold, seconds since they last held one)."""
        with self._lock:
            held = sum(len(slot.status.partitions) for slot in self._slots if slot.status)
            return held, self._holding.unheld_s(held > 0)

    def _unsettled(self) -> list[str]:
        """A group that never hands this collector a partition (call with the lock): after
        SETTLE_SESSIONS session timeouts without one — a group stuck rebalancing after a
        crash, or more collectors than partitions — not ready, with the workers' state."""
        holding = any(slot.status and slot.status.partitions for slot in self._slots)
        states = ", ".join(
            f"worker {slot.index + 1} "
            + ("starting" if slot.status is None else "joining the group")
            for slot in self._slots
        )
        problem = self._holding.problem(holding, states)
        return [] if problem is None else [problem]

    def _serving_stored(self) -> bool:
        """Whether the stored numbers are still served (call with the lock). The workers
        take over — for good — once none is starting, joining or loading and they hold
        every partition the stored numbers came from (else a counter of a partition still
        on its way to a worker would fall on the endpoint), or have held still for
        `SETTLE_SESSIONS` session timeouts (the topic has fewer partitions now)."""
        if self._stored is None:
            return False
        if self._joining():
            self._settled_at = None
            return True
        now = time.monotonic()
        settled_at = self._settled_at = self._settled_at or now
        held = {p for slot in self._slots if slot.status for p in slot.status.partitions}
        if self._stored_partitions <= held or now - settled_at > self._holding.bound_s:
            self._stored, self._changed = None, True
        return self._stored is not None

    def _joining(self) -> list[str]:
        """Why the workers' numbers are not all on /metrics yet (call with the lock)."""
        waiting: list[str] = []
        for slot in self._slots:
            status = slot.status
            if status is None:
                waiting.append(f"worker {slot.index + 1}: {slot.exited or 'starting'}")
            elif status.partitions and not (status.loaded and slot.published):
                waiting.append(f"worker {slot.index + 1}: state not loaded")
        if not any(slot.status and slot.status.partitions for slot in self._slots):
            waiting.append("no partitions assigned")
        return waiting

    def _observe(self) -> None:
        """Tell the merged view whether the workers are quiet (call with the lock)."""
        held = frozenset(p for slot in self._slots if slot.status for p in slot.status.partitions)
        self._view.observe(not self._joining(), held)

    def wait(self, timeout_s: float | None = None) -> bool:
        return self._stopped.wait(timeout_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Each worker finishes its batch, commits and leaves the group."""
        self._stopping.set()
        with self._lock:
            running = [slot for slot in self._slots if slot.process is not None]
        for slot in running:
            _send(slot.connection, (STOP,))
        deadline = time.monotonic() + timeout_s
        for slot, thread in zip(self._slots, self._threads, strict=True):
            thread.join(max(0.0, deadline - time.monotonic()))  # it reaps its worker
            process = slot.process
            if thread.is_alive() and process is not None:
                log.warning("worker %d did not stop in time: killing it", slot.index + 1)
                process.kill()
                thread.join(5)
        self._stopped.set()

    def _keep_running(self, slot: _Slot) -> None:
        wait_s = RESTART_BACKOFF_S[0]
        while not self._stopping.is_set():
            started = time.monotonic()
            with self._lock:
                if self._stopping.is_set():
                    break
                connection, process = self._spawn(slot)
            self._read(slot, connection)
            process.join()
            connection.close()
            self._exited(slot, process.exitcode)
            if self._stopping.is_set():
                break
            if time.monotonic() - started > STEADY_S:
                wait_s = RESTART_BACKOFF_S[0]
            log.warning(
                "worker %d exited with code %s; starting it again in %.0fs",
                slot.index + 1,
                process.exitcode,
                wait_s,
            )
            self._stopping.wait(wait_s)
            wait_s = min(RESTART_BACKOFF_S[1], wait_s * 2)

    def _exited(self, slot: _Slot, exitcode: int | None) -> None:
        with self._lock:
            self._view.forget(slot.index)
            slot.status, slot.published, slot.process = None, False, None
            slot.exited = f"exited with code {exitcode}; starting again"
            self._changed = True
            self._observe()

    def _spawn(self, slot: _Slot) -> tuple[Connection, BaseProcess]:

        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=run_worker,
            args=(self.settings, theirs, self.embedded_broker, effective_log_level()),
            name=f"outcomes-worker-{slot.index + 1}",
            daemon=True,
        )
        process.start()
        theirs.close()
        slot.process, slot.connection = process, ours
        return ours, process

    def _read(self, slot: _Slot, connection: Connection) -> None:
        """Take the worker's messages until it exits (its end of the pipe closes)."""
        while True:
            try:
                message: tuple[Any, ...] = connection.recv()
            except (EOFError, OSError):
                return
            kind = message[0]
            if kind == DELTA:
                self._merge(slot, message[1])
            elif kind == STATUS:
                with self._lock:
                    slot.status, slot.exited = message[1], None
                    self._observe()

    def _merge(self, slot: _Slot, delta: SnapshotDelta) -> None:
        with self._lock:
            self._view.apply(slot.index, delta)
            slot.published, self._changed = True, True


def _send(connection: Connection | None, message: tuple[Any, ...]) -> None:
    if connection is None:
        return
    with contextlib.suppress(OSError):  # already gone
        connection.send(message)
