"""The fetcher process: the Kafka consumer in a child process, feeding the collector.

kafka-python fetches, checks and decodes record batches in pure Python, which costs
about as much CPU per event as validating and aggregating it. With the consumer in its
own process the two halves run on two cores (see docs/PERFORMANCE.md). The fetcher
only fetches; the collector keeps every decision: what is accepted, which offsets to
resume from, what is committed.

Messages are marshal-encoded tuples (both processes run the same interpreter).
Fetcher -> collector, on the data pipe, in the order things happened:
  (READY,) | (FAILED, reason)                     once, after creating the consumer
  (BATCH, groups, ends, partition_count, broker_error)
      groups: [(partition, epoch, rows)], a row either
        (offset, key, headers, value, timestamp_ms, size), or for a record decoded here
        (offset, timestamp_ms, size, event, raw): event = `predecoded.pack`,
        raw = marshal of (key, headers, value)
  (ASSIGNED, partitions, partition_count)         then waits for RESUME
  (REVOKED, partitions)                           then waits for REVOKED_DONE
  (POLL_FAILED, reason)
Collector -> fetcher, on the control pipe:
  (RESUME, {partition: offset | None}, {partition: epoch})
  (REVOKED_DONE,)
  (COMMIT, [(partition, offset)])   informational Kafka offset commit
  (SEEK, partition, offset | None, epoch)
  (PAUSE, {partition: epoch})
  (CLOSE,)
An epoch tags a partition's records with the collector's latest positioning of it, so
records fetched before a seek and still in the pipe are recognised and dropped.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import queue
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any, Final, Protocol

from collector.retry import Backoff
from collector.runtime import setup_logging, tune_garbage_collector
from collector.source.client_records import RecordFields
from collector.source.diagnosis import explain
from collector.source.kafka import ConsumerSettings
from collector.source.open import FetchingSource, open_source
from collector.source.predecoded import DecodeShare, PredecodedFields, predecode

log = logging.getLogger(__name__)

READY, FAILED, BATCH, ASSIGNED, REVOKED, POLL_FAILED = range(6)
RESUME, REVOKED_DONE, COMMIT, SEEK, PAUSE, CLOSE = range(10, 16)
IN_FLIGHT: Final = 2
"""Messages sent ahead of what the collector has read (beyond what the pipe holds)."""
POLL_TIMEOUT_S: Final = 0.2
PROBE_INTERVAL_S: Final = 5.0
LIVENESS_TICK_S: Final = 0.5
"""How often the collector stamps its liveness; the fetcher checks as often."""
EXIT_COLLECTOR_FROZEN: Final = 3
BEHIND_SHARE: Final = 0.05
"""The collector is behind (decode more here) when it held the fetcher up for more than
this share of a balance window."""
BALANCE_WINDOW_S: Final = 0.5


class Liveness(Protocol):
    """A shared `time.monotonic()` stamp (multiprocessing.Value "d"): the collector
    process writes it every LIVENESS_TICK_S from a thread of its own, the fetcher reads it."""

    value: float


def row_of(fields: RecordFields, decode: bool) -> RecordFields | PredecodedFields:
    """A record as sent: its fields; or, when it is to be decoded here and is an outcome
    event (`predecoded`), the event and its key, headers and value in one bytes object
    (`SourceRecord.raw`: only a rejection reads them again, so the collector does not
    rebuild them for every record)."""
    if not decode:
        return fields
    offset, key, headers, value, timestamp_ms, size = fields
    packed = predecode(key, headers, value)
    if packed is None:
        return fields
    return offset, timestamp_ms, size, packed, marshal.dumps((key, headers, value))


class _ClosingError(Exception):
    """The collector asked to close, or went away (`Fetcher.orphaned`)."""


class _Outbox:
    """Sends messages in order from a thread of its own, so the next fetch goes on while
    the collector reads a batch (a pipe holds far less than one batch). At most `limit`
    messages wait: a slow collector blocks `put`, which is the backpressure."""

    def __init__(self, data: Connection, limit: int) -> None:
        self._data = data
        self._queue: queue.Queue[tuple[Any, ...] | None] = queue.Queue(limit)
        self.broken = False
        self.waited_s = 0.0
        """Time `put` spent blocked: what the collector held this process up, in all."""
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        self._thread.start()

    def put(self, message: tuple[Any, ...]) -> None:
        if self.broken:
            raise _ClosingError
        if self._queue.full():  # the collector is behind: measure how long it holds us up
            waiting_since = time.monotonic()
            self._queue.put(message)
            self.waited_s += time.monotonic() - waiting_since
        else:
            self._queue.put(message)

    def _run(self) -> None:
        while (message := self._queue.get()) is not None:
            if self.broken:
                continue  # keep draining: `put` must never block on a dead collector
            try:
                self._data.send_bytes(marshal.dumps(message))
            except OSError:  # the collector is gone
                self.broken = True

    def close(self, timeout_s: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout_s)


class Fetcher:
    """Runs in the child process: polls, forwards batches, obeys the control pipe."""

    def __init__(self, settings: ConsumerSettings, data: Connection, control: Connection) -> None:
        self.settings = settings
        self._sasl_mechanism: str | None = dict(settings.security).get("sasl_mechanism")
        self._outbox = _Outbox(data, IN_FLIGHT)
        self._decoding = DecodeShare()
        self._window = (time.monotonic(), 0.0)
        """When the current balance window started, and the outbox's `waited_s` then."""
        self._control = control
        self._epochs: dict[int, int] = {}
        self._broker_error: str | None = None
        self._last_probe = time.monotonic()
        self._deferred: list[tuple[Any, ...]] = []
        """COMMIT and PAUSE messages a rebalance callback set aside for the polling thread."""
        self._reading = threading.Lock()
        """Held by whoever reads the control pipe: a rebalance callback (kafka-python's
        network thread) may still await its reply after the poll that started it timed
        out, and the polling thread must not take that reply away."""
        self._closing = False
        """Set when a callback inside kafka-python (which swallows errors) saw CLOSE."""
        self.orphaned = False
        """The collector went away (its pipes closed) without asking to close."""
        self.source: FetchingSource | None = None

    def send(self, *message: Any) -> None:
        try:
            self._outbox.put(message)
        except _ClosingError:
            self._closing = self.orphaned = True
            raise

    def leaves_group(self) -> bool:
        """Whether to leave the consumer group on the way out, or vanish without a word
        (the broker drops the member when its session expires).

        A fetcher holding partitions leaves, so they move to the other members at once
        instead of after the session timeout: whether the collector closed it or was
        killed with `leave_group="always"` (Apache Kafka), only on a clean shutdown with
        "assigned" (Tansu 0.6, the embedded broker, can keep a member that leaves while the
        group rebalances as the group's leader; the group then never completes a rebalance
        again, whoever joins: reproduced with plain kafka-python consumers).

        A fetcher still joining holds nothing to hand over, and does not leave on either
        broker: on Apache Kafka its LeaveGroup would queue behind the JoinGroup waiting at
        the coordinator (a broker answers one request per connection at a time), so the
        close would block until the group's rebalance completes.
        """
        if self.source is None or not self.source.assigned:
            return False
        return self.settings.leave_group == "always" or not self.orphaned

    def run(self) -> None:
        try:
            self.source = open_source(self.settings, self._assigned, self._revoked)
        except Exception as error:  # noqa: BLE001 - reported to the collector, which retries
            self.send(FAILED, explain(error, sasl_mechanism=self._sasl_mechanism))
            self._outbox.close()
            return
        self.send(READY)
        try:
            self._loop(self.source)
        except _ClosingError:
            pass
        finally:
            if self.leaves_group():
                self.source.close()
                self.source = None  # closed: `serve` lets the process end normally
            self._outbox.close()

    def _loop(self, source: FetchingSource) -> None:
        backoff = Backoff(0.1, 10.0)
        while True:
            self._drain()
            try:
                polled = source.fetch_fields(POLL_TIMEOUT_S)
                if self._closing:
                    raise _ClosingError
            except _ClosingError:
                raise
            except Exception as error:  # noqa: BLE001 - broker trouble is transient
                self.send(POLL_FAILED, explain(error, sasl_mechanism=self._sasl_mechanism))
                time.sleep(backoff.next_s())
                continue
            backoff.reset()
            self._probe(source)
            self._balance_decoding()
            groups = [
                (
                    partition,
                    self._epochs.get(partition, 0),
                    [row_of(fields, self._decoding.take()) for fields in rows],
                )
                for partition, rows in polled.items()
            ]
            self.send(
                BATCH, groups, source.highwaters(), source.partition_count(), self._broker_error
            )

    def _balance_decoding(self) -> None:
        """Every BALANCE_WINDOW_S: decode a larger share here when the collector held this
        process up for more than BEHIND_SHARE of the window (it has more to do than we
        have), a smaller one when it did not (we hold it up, or nothing is busy)."""
        now, waited_s = time.monotonic(), self._outbox.waited_s
        started, waited_before = self._window
        if now - started < BALANCE_WINDOW_S:
            return
        self._decoding.observe((waited_s - waited_before) / (now - started) > BEHIND_SHARE)
        self._window = (now, waited_s)

    def _probe(self, source: FetchingSource) -> None:
        now = time.monotonic()
        if now - self._last_probe < PROBE_INTERVAL_S:
            return
        self._last_probe = now
        try:
            source.probe()
        except Exception as error:  # noqa: BLE001 - a hanging broker is transient
            self._broker_error = f"not answering: {error or type(error).__name__}"
            return
        self._broker_error = None

    # -- control -----------------------------------------------------------------------

    def _drain(self) -> None:
        """Handle every waiting control message (and those a callback deferred); nothing
        while a rebalance callback is reading."""
        if not self._reading.acquire(blocking=False):
            return
        try:
            deferred, self._deferred = self._deferred, []
            for message in deferred:
                self._handle(message)
            while self._control.poll():
                self._handle(self._receive())
        finally:
            self._reading.release()

    def _receive(self) -> tuple[Any, ...]:
        try:
            message: tuple[Any, ...] = marshal.loads(self._control.recv_bytes())
        except (EOFError, OSError):
            message = (CLOSE,)
            self.orphaned = True
        if message[0] == CLOSE:
            self._closing = True
            raise _ClosingError
        return message

    def _await(self, kind: int) -> tuple[Any, ...]:
        """The collector's reply `kind`, handling whatever control arrives before it.

        Runs inside a rebalance callback (on kafka-python's network thread): seeks apply
        at once; offset commits and pauses wait for the polling thread. A pause waits so that
        it is judged by the epochs this callback's reply brings: one sent for the previous
        owner of a partition that is being assigned again must not stop the new one (the
        fetcher would hold the partition paused for good).
        """
        with self._reading:
            while True:
                message = self._receive()
                if message[0] == kind:
                    return message
                if message[0] in (COMMIT, PAUSE):
                    self._deferred.append(message)
                else:
                    self._handle(message)

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == COMMIT:
            self._commit(message[1])
        elif kind == SEEK:
            _, partition, offset, epoch = message
            if epoch > self._epochs.get(partition, 0):  # else an assignment superseded it
                self._epochs[partition] = epoch
                self._position(partition, offset)
        elif kind == PAUSE:  # only where the epoch is current: not a later assignment
            assert self.source is not None
            current = [p for p, epoch in message[1].items() if epoch == self._epochs.get(p, 0)]
            if current:
                self.source.pause(current)
        else:
            raise ValueError(f"unexpected control message {kind}")

    def _position(self, partition: int, offset: int | None) -> None:
        assert self.source is not None
        try:
            self.source.seek(partition, offset)
        except Exception as error:  # noqa: BLE001 - no longer assigned: nothing to position
            log.debug("cannot seek partition %d: %s", partition, error)

    def _commit(self, offsets: list[tuple[int, int]]) -> None:
        assert self.source is not None
        topic = self.settings.topic
        self.source.commit_async({(topic, partition): offset for partition, offset in offsets})

    # -- rebalance callbacks (inside `fetch`) ------------------------------------------

    # Closing while a callback waits for its reply: the callback returns at once (the
    # loop stops after the poll, `_closing` is set) instead of raising into kafka-python,
    # which would log the exception as an error on a clean shutdown.

    def _assigned(self, topic: str, partitions: list[int]) -> dict[int, int | None]:
        assert self.source is not None
        if self._closing:
            return {}
        try:
            self.send(ASSIGNED, partitions, self.source.partition_count())
            _, resume, epochs = self._await(RESUME)
        except _ClosingError:
            return {}
        self._epochs.update(epochs)
        return {int(partition): offset for partition, offset in resume.items()}

    def _revoked(self, topic: str, partitions: list[int]) -> None:
        if self._closing:  # leaving the group: the collector stops, nothing to hand back
            return
        with contextlib.suppress(_ClosingError):
            self.send(REVOKED, partitions)
            self._await(REVOKED_DONE)


def watch_collector(liveness: Liveness, frozen_after_s: float) -> None:
    """Exit the fetcher process when the collector has not run for `frozen_after_s`.

    A collector that is frozen (SIGSTOP, a paused VM or container cgroup) while its
    fetcher still heartbeats would keep its partitions, and their projects would stall,
    until the broker's max.poll.interval expires (minutes). A frozen single-process
    consumer is dropped after its session timeout; exiting without a word (no LeaveGroup:
    the collector may wake with a batch in hand, which the state store's fence refuses)
    gives the same: the group moves the partitions, and the collector, when it runs
    again, finds its fetcher gone and starts a new one."""
    while True:
        time.sleep(LIVENESS_TICK_S)
        silent_s = time.monotonic() - liveness.value
        if silent_s > frozen_after_s:
            log.warning(
                "the collector process has not run for %.1fs (frozen?): the Kafka consumer"
                " exits so that the group moves its partitions",
                silent_s,
            )
            logging.shutdown()
            os._exit(EXIT_COLLECTOR_FROZEN)


def serve(
    settings: ConsumerSettings,
    data: Connection,
    control: Connection,
    log_level: int,
    liveness: Liveness | None = None,
) -> None:
    """The child process's entry point (multiprocessing target)."""
    # Ctrl-C or a group-wide SIGTERM reaches this process too: the collector decides
    # when to stop and says so (CLOSE), or its pipe closes when it dies.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    setup_logging(log_level)
    tune_garbage_collector()
    if liveness is not None:
        frozen_after_s = max(settings.session_timeout_ms / 1000, 10 * LIVENESS_TICK_S)
        threading.Thread(
            target=watch_collector, args=(liveness, frozen_after_s), name="liveness", daemon=True
        ).start()
    fetcher = Fetcher(settings, data, control)
    try:
        fetcher.run()
    except _ClosingError:
        pass  # the collector is gone (before the loop started)
    finally:
        data.close()
        control.close()
    if fetcher.source is not None:  # not closed: vanish, see `Fetcher.leaves_group`
        log.info(
            "exiting without leaving the group (%s); the broker drops this member when"
            " its session expires",
            "the collector went away" if fetcher.orphaned else "no partitions held",
        )
        logging.shutdown()
        os._exit(0)
