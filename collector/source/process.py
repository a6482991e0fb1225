"""A source whose Kafka consumer runs in a child process (collector.source.fetcher).

Implements the pipeline's Source protocol on the collector's side of the pipes:
rebalance callbacks still run inside `poll` on the pipeline thread, in the order the
consumer saw them, after every batch fetched before them; offsets to resume from
still come from the state store. A fetcher that dies is replaced: its partitions are
revoked first, and the new consumer joins the group again.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import marshal
import multiprocessing
import threading
import time
from typing import Any, Final

from collector.runtime import effective_log_level
from collector.source import fetcher
from collector.source.kafka import ConsumerSettings, OnAssigned, OnRevoked, lag_of
from collector.source.predecoded import unpack
from collector.source.records import SourceRecord

log = logging.getLogger(__name__)

PIPE_BYTES: Final = 1 << 20
"""Data pipe capacity asked of Linux (default 64 KiB): about a batch, fewer wake-ups."""
START_TIMEOUT_S: Final = 60.0
CLOSE_TIMEOUT_S: Final = 15.0
COALESCE_RECORDS: Final = 10_000
COALESCE_BYTES: Final = 16 << 20
"""Batches already waiting go into one poll's result while it holds fewer than
COALESCE_RECORDS records and they came in fewer than COALESCE_BYTES: one state
transaction for several fetches when the collector is behind, in bounded memory."""
RAW_ROW: Final = 6
"""Fields of a record sent raw (the other rows carry an event decoded by the fetcher)."""
_GONE: Final = -1
"""Message kind standing for the end of the data pipe (the fetcher exited)."""


def records_of(topic: str, partition: int, rows: list[tuple[Any, ...]]) -> list[SourceRecord]:
    """The records of one partition as the fetcher sent them (`fetcher.row_of`)."""
    return [
        SourceRecord(topic, partition, *row)
        if len(row) == RAW_ROW
        else SourceRecord(
            topic, partition, row[0], None, (), None, row[1], row[2], *unpack(row[3]), row[4]
        )
        for row in rows
    ]


class FetcherError(ConnectionError):
    """The fetcher could not reach the broker, or stopped answering."""


class ProcessSource:
    def __init__(
        self,
        settings: ConsumerSettings,
        on_assigned: OnAssigned,
        on_revoked: OnRevoked,
    ) -> None:
        self.settings = settings
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked
        self._assigned: frozenset[tuple[str, int]] = frozenset()
        self._settled = False
        self._epochs: dict[int, int] = {}
        self._paused: set[int] = set()
        self._ends: dict[int, int] = {}
        self._partition_count: int | None = None
        self._broker_error: str | None = None
        self._running = False
        self._received_bytes = 0
        """Bytes read from the data pipe so far."""
        self._pending: tuple[Any, ...] | None = None
        """A message `poll` received after a batch it returned, handled by the next poll."""
        context = multiprocessing.get_context("spawn")
        self._liveness = context.Value("d", time.monotonic(), lock=False)
        self._stamping = threading.Event()
        threading.Thread(target=self._stamp_liveness, name="liveness", daemon=True).start()
        self._start()

    def _stamp_liveness(self) -> None:
        """Tells the fetcher this process runs (see `fetcher.watch_collector`); a thread
        of its own, so a long batch or a store retry on the ingest thread never stops it."""
        while not self._stamping.wait(fetcher.LIVENESS_TICK_S):
            self._liveness.value = time.monotonic()

    # -- the child ---------------------------------------------------------------------

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._data, data_end = context.Pipe(duplex=False)
        with contextlib.suppress(OSError, AttributeError):  # Linux only; best effort
            fcntl.fcntl(data_end.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        control_end, self._control = context.Pipe(duplex=False)
        self._process = context.Process(
            target=fetcher.serve,
            args=(self.settings, data_end, control_end, effective_log_level(), self._liveness),
            name="outcomes-fetcher",
            daemon=True,
        )
        self._process.start()
        data_end.close()  # only the child holds these now: EOF tells either side
        control_end.close()
        ready = self._data.poll(START_TIMEOUT_S) and self._receive()
        if not ready or ready[0] != fetcher.READY:
            reason = ready[1] if ready and ready[0] == fetcher.FAILED else "did not start"
            self._discard()
            raise FetcherError(reason)
        self._running = True
        log.info("Kafka consumer running in process %d", self._process.pid)

    def _discard(self) -> None:
        """Wait for the child to exit (reading what it still sends, so it never blocks
        on a full pipe), kill it after CLOSE_TIMEOUT_S, and close the pipes."""
        self._running = False
        self._pending = None
        deadline = time.monotonic() + CLOSE_TIMEOUT_S
        while self._process.is_alive() and time.monotonic() < deadline:
            if self._data.poll(0.05) and self._receive() is None:
                break  # the child closed its end: it is exiting
        self._process.join(max(0.0, deadline - time.monotonic()))
        if self._process.is_alive():
            log.warning("the Kafka consumer process did not exit; killing it")
            self._process.kill()
            self._process.join()
        self._data.close()
        self._control.close()

    def _restart(self) -> None:
        """The fetcher died: give up its partitions (the group moves them) and start anew."""
        if self._running:
            log.warning(
                "the Kafka consumer process exited (%s); restarting it", self._process.exitcode
            )
            self._discard()
        lost = sorted(partition for _, partition in self._assigned)
        self._assigned = frozenset()
        if lost:
            self._on_revoked(self.settings.topic, lost)
        self._start()

    def _send(self, *message: Any) -> None:
        try:
            self._control.send_bytes(marshal.dumps(message))
        except OSError:  # the child is gone; the next poll restarts it
            log.debug("fetcher gone; not sent: %s", message[0])

    def _receive(self) -> tuple[Any, ...] | None:
        try:
            raw = self._data.recv_bytes()
        except (EOFError, OSError):
            return None
        self._received_bytes += len(raw)
        message: tuple[Any, ...] = marshal.loads(raw)
        return message

    # -- Source ------------------------------------------------------------------------

    @property
    def assigned(self) -> frozenset[tuple[str, int]]:
        return self._assigned

    @property
    def settled(self) -> bool:
        """Whether partitions were assigned since the last revocation (the fetcher reports
        no empty assignment: one that got none stays unsettled)."""
        return self._settled

    def poll(self, timeout_s: float) -> list[SourceRecord]:
        """The next records: waits up to `timeout_s`, runs rebalance callbacks on the way.

        Batches that are already waiting are returned together (up to COALESCE_RECORDS),
        so a backlog is worked through in fewer, larger state commits."""
        if not self._running or (not self._process.is_alive() and not self._data.poll()):
            self._restart()
        message = self._next(time.monotonic() + timeout_s)
        if message is None:
            return []
        kind = message[0]
        if kind == fetcher.BATCH:
            return self._coalesced(self._records(*message[1:]))
        if kind == _GONE:
            self._restart()
        elif kind == fetcher.ASSIGNED and self._process.is_alive():
            self._assign(message[1], message[2])
        elif kind == fetcher.ASSIGNED:  # from a fetcher that died since: the group reassigns
            log.info("ignoring an assignment of a Kafka consumer that exited: %s", message[1])
        elif kind == fetcher.REVOKED:
            self._revoke(message[1])
        elif kind == fetcher.POLL_FAILED:
            raise FetcherError(message[1])
        else:
            raise ValueError(f"unexpected message {kind} from the fetcher")
        return []

    def _next(self, deadline: float) -> tuple[Any, ...] | None:
        """The message set aside by `_coalesced`, else the next one to arrive before
        `deadline` ((_GONE,) if the fetcher closed its end), else None."""
        if self._pending is not None:
            message, self._pending = self._pending, None
            return message
        if not self._data.poll(max(0.0, deadline - time.monotonic())):
            return None
        return self._receive() or (_GONE,)

    def _coalesced(self, records: list[SourceRecord]) -> list[SourceRecord]:
        """`records` and those of the batches waiting behind them; the first message
        that is not a batch is kept for the next poll, which handles it in order."""
        stop_at_bytes = self._received_bytes + COALESCE_BYTES
        while (
            len(records) < COALESCE_RECORDS
            and self._received_bytes < stop_at_bytes
            and self._data.poll(0)
        ):
            message = self._receive()
            if message is None:  # the fetcher exited: the next poll sees the pipe's end
                break
            if message[0] != fetcher.BATCH:
                self._pending = message
                break
            records += self._records(*message[1:])
        return records

    def _records(
        self,
        groups: list[tuple[int, int, list[tuple[Any, ...]]]],
        ends: dict[int, int],
        partition_count: int | None,
        broker_error: str | None,
    ) -> list[SourceRecord]:
        self._ends, self._broker_error = ends, broker_error
        self._partition_count = partition_count or self._partition_count
        topic, epochs, paused = self.settings.topic, self._epochs, self._paused
        records: list[SourceRecord] = []
        for partition, epoch, rows in groups:
            if epoch != epochs.get(partition) or partition in paused:
                continue  # fetched before a seek (sent again from there) or fenced off
            records += records_of(topic, partition, rows)
        return records

    def _assign(self, partitions: list[int], partition_count: int | None) -> None:
        self._partition_count = partition_count or self._partition_count
        self._assigned = self._assigned | {(self.settings.topic, p) for p in partitions}
        self._settled = True
        self._paused.difference_update(partitions)
        epochs = {p: self._epochs.get(p, 0) + 1 for p in partitions}
        try:
            resume = self._on_assigned(self.settings.topic, partitions)
        except BaseException:
            self._send(fetcher.RESUME, {}, epochs)  # the consumer keeps its own positions
            raise
        finally:
            self._epochs.update(epochs)
        self._send(fetcher.RESUME, resume, epochs)

    def _revoke(self, partitions: list[int]) -> None:
        self._settled = False
        self._assigned = self._assigned - {(self.settings.topic, p) for p in partitions}
        try:
            self._on_revoked(self.settings.topic, partitions)
        finally:
            self._send(fetcher.REVOKED_DONE)

    def commit_async(self, offsets: dict[tuple[str, int], int]) -> None:
        mine = [
            (p, offset) for (topic, p), offset in offsets.items() if topic == self.settings.topic
        ]
        if mine:
            self._send(fetcher.COMMIT, mine)

    def lag(self, next_offsets: dict[tuple[str, int], int]) -> list[tuple[str, int, int]]:
        mine = {
            p: end for p, end in self._ends.items() if (self.settings.topic, p) in self._assigned
        }
        return lag_of(self.settings.topic, mine, next_offsets)

    def seek(self, partition: int, offset: int | None) -> None:
        epoch = self._epochs[partition] = self._epochs.get(partition, 0) + 1
        self._send(fetcher.SEEK, partition, offset, epoch)

    def pause(self, partitions: list[int]) -> None:
        """Stop fetching `partitions` (fenced off) until the group takes them away.

        The pause names each partition's epoch: the fetcher ignores it for a partition
        positioned again since (a later assignment), and it is not sent at all for one
        this source no longer holds (a restarted fetcher)."""
        self._paused.update(partitions)
        held = {
            p: self._epochs.get(p, 0)
            for p in partitions
            if (self.settings.topic, p) in self._assigned
        }
        if held:
            self._send(fetcher.PAUSE, held)

    def partition_count(self) -> int | None:
        return self._partition_count

    def probe(self, timeout_s: float = 2.0) -> None:
        """Raises what the fetcher's own last probe of the broker found (it probes every
        few seconds; a broker that stopped answering blocks the child, not this thread)."""
        if self._broker_error is not None:
            raise FetcherError(self._broker_error)
        if not self._running or not self._process.is_alive():
            raise FetcherError("the Kafka consumer process is not running")

    def close(self) -> None:
        """Ask the fetcher to exit (leaving the group if it holds partitions); kill it if it
        does not."""
        if self._running:
            self._send(fetcher.CLOSE)
            self._discard()
        self._stamping.set()
