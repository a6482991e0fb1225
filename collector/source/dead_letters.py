"""The dead-letter topic: rejected records copied unchanged, with the reason in headers.

The record's format is `schemas.dead_letter`: key, value and the original headers are kept
byte for byte so a fixed producer or a replay tool can resend them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from collector.retry import Backoff
from collector.source.kafka import check_reachable
from collector.source.records import SourceRecord
from schemas.binding import KafkaRecord
from schemas.dead_letter import Origin, refused_headers
from schemas.envelope import EventError

log = logging.getLogger(__name__)

Message = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]
"""(topic, key, value, headers) of one record to produce."""


def dead_letter_headers(
    record: SourceRecord, error: EventError, group: str = ""
) -> list[tuple[str, bytes]]:
    """The record's own headers and ours; `group`: the consumer group that refused it."""
    origin = Origin(record.topic, record.partition, record.offset, group)
    return refused_headers(record.headers, error.reason.value, error.detail, origin)


class DeadLetterProducer:
    """Sends rejected records and waits for the broker's acknowledgement.

    `send_all` returns only when every record is acknowledged: it retries with backoff
    while the broker is unavailable, so a rejection is never dropped.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        security: dict[str, Any] | None = None,
        max_backoff_s: float = 10.0,
        group: str = "",
    ) -> None:
        self.topic = topic
        self.group = group
        self._max_backoff_s = max_backoff_s
        check_reachable(bootstrap_servers)
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers.split(","),
            acks="all",
            linger_ms=5,
            retries=5,
            max_request_size=8 * 1024 * 1024,
            client_id="outcomes-collector-dlq",
            **(security or {}),
        )

    def send_all(self, rejected: Sequence[tuple[SourceRecord, EventError]]) -> None:
        self._until_acknowledged(
            [
                (
                    self.topic,
                    record.key,
                    record.value,
                    dead_letter_headers(record, error, self.group),
                )
                for record, error in rejected
            ]
        )

    def forward(self, topic: str, records: Sequence[KafkaRecord]) -> None:
        """Produce `records` (events translated from a tool's records) and wait for the
        broker's acknowledgement, retrying like `send_all`."""
        self._until_acknowledged([(topic, r.key, r.value, r.headers) for r in records])

    def _until_acknowledged(self, messages: list[Message]) -> None:
        pending = messages
        backoff = Backoff(0.1, self._max_backoff_s)
        while pending:
            futures = [(item, self._send(item)) for item in pending]
            self._producer.flush()
            pending = [item for item, future in futures if _failed(future)]
            if pending:
                log.warning("%s: %d sends failed, retrying", pending[0][0], len(pending))
                time.sleep(backoff.next_s())

    def _send(self, message: Message) -> Future[Any]:
        topic, key, value, headers = message
        future: Future[Any] = self._producer.send(topic, key=key, value=value, headers=headers)
        return future

    def close(self) -> None:
        self._producer.close(timeout=5)


def _failed(future: Any) -> bool:
    try:
        future.get(timeout=30)
    except KafkaError as error:
        log.warning("dead-letter send failed: %s", error)
        return True
    return False
