"""Background delivery of records to Kafka through a bounded buffer.

The automation's thread only appends to an in-memory queue (never blocks); one daemon
thread connects, sends and waits for acknowledgements, retrying with backoff while
Kafka is unreachable. When the buffer is full, new events are dropped, counted and
logged at ERROR: an automation must never hang because telemetry is down.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from typing import Any, Protocol

from kafka import KafkaProducer

from schemas.binding import KafkaRecord

log = logging.getLogger("outcomes.sdk")


class Sender(Protocol):
    """Sends a batch and returns only when every record is acknowledged (or raises)."""

    def send_batch(self, topic: str, records: list[KafkaRecord]) -> None: ...

    def close(self) -> None: ...


class KafkaSender:
    def __init__(
        self, bootstrap_servers: str, ack_timeout_s: float | None = None, **config: Any
    ) -> None:
        """`ack_timeout_s`: a batch not acknowledged by then raises (KafkaTimeoutError): the
        broker's metadata, the delivery and the acknowledgement all fit in it. None: as long
        as kafka-python's own delivery timeout (2 minutes)."""
        _probe(bootstrap_servers)
        settings: dict[str, Any] = {"acks": "all", "linger_ms": 5, "max_block_ms": 5000}
        if ack_timeout_s is not None:
            bound_ms = max(int(ack_timeout_s * 1000), 1000)
            settings.update(
                max_block_ms=bound_ms, request_timeout_ms=bound_ms,
                delivery_timeout_ms=bound_ms + 5, bootstrap_timeout_ms=bound_ms,
                reconnect_backoff_max_ms=1000,  # back within a second of the broker
            )  # fmt: skip
        settings.update(config)
        self._ack_timeout_s = ack_timeout_s
        self._producer = KafkaProducer(bootstrap_servers=bootstrap_servers.split(","), **settings)

    def send_batch(self, topic: str, records: list[KafkaRecord]) -> None:
        deadline = None if self._ack_timeout_s is None else time.monotonic() + self._ack_timeout_s
        futures = [
            self._producer.send(topic, key=r.key, value=r.value, headers=r.headers) for r in records
        ]
        self._producer.flush(None if deadline is None else max(deadline - time.monotonic(), 0.05))
        for future in futures:
            future.get(timeout=30 if deadline is None else max(deadline - time.monotonic(), 0.05))

    def close(self, timeout_s: float = 5.0) -> None:
        self._producer.close(timeout=timeout_s)


def _probe(bootstrap_servers: str) -> None:
    for address in bootstrap_servers.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=3):
                return
        except (OSError, ValueError):
            continue
    raise ConnectionError(f"no Kafka bootstrap server reachable at {bootstrap_servers}")


class DeliveryQueue:
    """Bounded FIFO of records with one delivery thread; `flush` waits for acks."""

    def __init__(
        self,
        connect: Any,
        topic: str,
        capacity: int = 10_000,
        batch_size: int = 500,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.topic = topic
        self.capacity = capacity
        self.dropped = 0
        self.delivered = 0
        self.last_error: str | None = None
        self._connect = connect
        self._batch_size = batch_size
        self._max_backoff_s = max_backoff_s
        self._queue: deque[KafkaRecord] = deque()
        self._in_flight = 0
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="outcomes-sdk", daemon=True)
        self._thread.start()

    def put(self, record: KafkaRecord) -> bool:
        """Queue `record`; False (and an ERROR log) if the buffer is full."""
        with self._cond:
            if len(self._queue) + self._in_flight >= self.capacity:
                self.dropped += 1
                log.error(
                    "outcome event dropped: buffer of %d full (%d dropped so far; last error: %s)",
                    self.capacity, self.dropped, self.last_error,
                )  # fmt: skip
                return False
            self._queue.append(record)
            self._cond.notify_all()
            return True

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight

    def flush(self, timeout_s: float) -> bool:
        """Wait until everything queued so far is acknowledged; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout_s: float) -> bool:
        delivered = self.flush(timeout_s)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=5)
        return delivered

    def _take(self) -> list[KafkaRecord] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if self._closed and not self._queue:
                return None
            batch = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
            self._in_flight = len(batch)
            return batch

    def _run(self) -> None:
        sender: Sender | None = None
        while (batch := self._take()) is not None:
            sender, delivered = self._deliver(sender, batch)
            with self._cond:
                if delivered:
                    self.delivered += len(batch)
                else:
                    self.dropped += len(batch)
                    log.error("closing: %d outcome events were never delivered", len(batch))
                self._in_flight = 0
                self._cond.notify_all()
        _discard(sender)

    def _deliver(
        self, sender: Sender | None, batch: list[KafkaRecord]
    ) -> tuple[Sender | None, bool]:
        """Send `batch`, retrying with backoff; gives up only once closed."""
        backoff_s = 0.2
        while True:
            try:
                sender = sender or self._connect()
                sender.send_batch(self.topic, batch)
            except Exception as error:  # noqa: BLE001 - every delivery failure is retried
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("outcome events not delivered yet (%s); retrying", self.last_error)
                _discard(sender)
                sender = None
                if self._wait_closed(backoff_s):
                    return None, False
                backoff_s = min(self._max_backoff_s, backoff_s * 2)
                continue
            self.last_error = None
            return sender, True

    def _wait_closed(self, delay_s: float) -> bool:
        with self._cond:
            self._cond.wait(delay_s)
            return self._closed


def _discard(sender: Sender | None) -> None:
    if sender is not None:
        try:
            sender.close()
        except Exception:
            log.debug("closing the Kafka producer failed", exc_info=True)
