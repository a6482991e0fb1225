"""The dead-letter record: how a refused message is written to `<topic>.dlq`, and read back.

Two writers share it: the collector copies a record it refused unchanged (key, value and
its own headers byte for byte) and adds `outcomes_error_reason`, `outcomes_error_detail`,
the original topic, partition and offset, and the consumer group; the gateway writes a
webhook delivery no rule mapped (its HTTP headers, credentials removed, as `http_<name>`)
with `outcomes_integration`. `outcomes dlq` reads both through `DeadLetter`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from schemas.binding import KafkaRecord

REASON: Final = "outcomes_error_reason"
DETAIL: Final = "outcomes_error_detail"
ORIGINAL_TOPIC: Final = "outcomes_original_topic"
ORIGINAL_PARTITION: Final = "outcomes_original_partition"
ORIGINAL_OFFSET: Final = "outcomes_original_offset"
CONSUMER_GROUP: Final = "outcomes_consumer_group"
INTEGRATION: Final = "outcomes_integration"
HTTP_PREFIX: Final = "http_"
OURS: Final = ("outcomes_", HTTP_PREFIX)
"""Header prefixes a dead letter adds; everything else is the producer's own."""
MAX_DETAIL_BYTES: Final = 2048

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a refused record was read: topic, partition, offset, and the consumer group
    that refused it (collectors of several groups may share a dead-letter topic)."""

    topic: str
    partition: int
    offset: int
    group: str = ""


def refused_headers(
    own: Iterable[tuple[str, bytes | None]], reason: str, detail: str, origin: Origin
) -> Headers:
    """The headers of a record the collector refused: the record's own, then ours."""
    return [
        *((name, raw or b"") for name, raw in own),
        (REASON, reason.encode()),
        (DETAIL, detail.encode()[:MAX_DETAIL_BYTES]),
        (ORIGINAL_TOPIC, origin.topic.encode()),
        (ORIGINAL_PARTITION, str(origin.partition).encode()),
        (ORIGINAL_OFFSET, str(origin.offset).encode()),
        *(((CONSUMER_GROUP, origin.group.encode()),) if origin.group else ()),
    ]


def delivery_record(
    integration: str, http_headers: Iterable[tuple[str, str]], body: bytes, reason: str,
    detail: str,
) -> KafkaRecord:  # fmt: skip
    """A webhook delivery the gateway could not turn into events (`http_headers`: the
    request's, credentials already removed), keyed by its integration."""
    return KafkaRecord(
        integration.encode(),
        [
            *((HTTP_PREFIX + name, value.encode()) for name, value in http_headers),
            (REASON, reason.encode()),
            (DETAIL, detail.encode()[:MAX_DETAIL_BYTES]),
            (INTEGRATION, integration.encode()),
        ],
        body,
    )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record read from the dead-letter topic."""

    partition: int
    offset: int
    time: datetime
    key: bytes | None
    value: bytes | None
    headers: Headers

    def header(self, name: str) -> str | None:
        found = next((raw for key, raw in self.headers if key == name), None)
        return None if found is None else found.decode("utf-8", "replace")

    @property
    def reason(self) -> str:
        return self.header(REASON) or "?"

    @property
    def integration(self) -> str | None:
        return self.header(INTEGRATION)

    def original(self) -> KafkaRecord:
        """The record as its producer sent it (our headers removed)."""
        kept = [(k, v) for k, v in self.headers if not k.startswith(OURS)]
        return KafkaRecord(self.key or b"", kept, self.value or b"")

    def http_headers(self) -> dict[str, str]:
        """The webhook request's headers, for a delivery the gateway dead-lettered."""
        return {
            k[len(HTTP_PREFIX) :]: v.decode("utf-8", "replace")
            for k, v in self.headers
            if k.startswith(HTTP_PREFIX)
        }

    def identity(self) -> dict[str, str | None]:
        """What was refused, as far as it can be read: the event's `id`, `source`, `type`
        and `project` (binary mode: its `ce_*` headers and key; structured mode: its JSON);
        a webhook delivery: its integration as `source`, type `webhook`."""
        if self.integration is not None:
            return {"id": None, "source": self.integration, "type": "webhook", "project": None}
        found: dict[str, str | None] = {
            name: self.header(f"ce_{name}") for name in ("id", "source", "type")
        }
        found["project"] = self.key.decode("utf-8", "replace") if self.key else None
        if found["type"] is None and self.value:
            try:
                document = json.loads(self.value)
            except (ValueError, RecursionError):
                return found
            if isinstance(document, dict):
                for name in ("id", "source", "type"):
                    value = document.get(name)
                    found[name] = value if isinstance(value, str) else found[name]
                data = document.get("data")
                if isinstance(data, dict) and isinstance(data.get("project"), str):
                    found["project"] = data["project"]
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "partition": self.partition, "offset": self.offset, "time": self.time.isoformat(),
            **self.identity(),
            "reason": self.reason, "detail": self.header(DETAIL),
            "integration": self.integration,
            "group": self.header(CONSUMER_GROUP),
            "original": {"topic": self.header(ORIGINAL_TOPIC),
                         "partition": self.header(ORIGINAL_PARTITION),
                         "offset": self.header(ORIGINAL_OFFSET)},
            "key": (self.key or b"").decode("utf-8", "replace"),
        }  # fmt: skip
