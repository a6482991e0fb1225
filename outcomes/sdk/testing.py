"""An in-memory sender for testing code that emits outcome events.

    sender = MemorySender()
    with Emitter("unused:9092", source="tests", sender=lambda: sender) as emitter:
        automation(emitter)
    assert [event.type for event in sender.events()] == [...]

It acknowledges each batch at once (or fails the next `failures` batches, or blocks until
`gate` is set, to exercise retries and a full buffer) and keeps every record it accepted.
"""

from __future__ import annotations

import threading

from schemas.binding import KafkaRecord, from_record
from schemas.envelope import OutcomeEvent


class MemorySender:
    """A `Sender` that keeps what it is sent. Thread-safe: the emitter's delivery thread
    sends while the test reads."""

    def __init__(self, failures: int = 0) -> None:
        self.records: list[KafkaRecord] = []
        self.topics: list[str] = []
        self.failures = failures
        """Batches still to refuse with `ConnectionError` (as an unreachable broker)."""
        self.gate = threading.Event()
        """Cleared: `send_batch` waits until it is set again (a slow broker)."""
        self.gate.set()
        self.closed = False
        self._lock = threading.Lock()

    def send_batch(self, topic: str, records: list[KafkaRecord]) -> None:
        self.gate.wait()
        with self._lock:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("broker down")
            self.records.extend(records)
            self.topics.extend(topic for _ in records)

    def close(self) -> None:
        self.closed = True

    def events(self) -> list[OutcomeEvent]:
        """The events accepted so far, decoded and validated as the collector would."""
        with self._lock:
            records = list(self.records)
        return [from_record(r.key, r.headers, r.value) for r in records]
