"""What a source hands to the pipeline: one consumed record, broker-independent."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    value: bytes | None
    timestamp_ms: int = 0

    @property
    def size(self) -> int:
        """Bytes of key, value and headers, as the too_large limit counts them."""
        header_bytes = sum(len(name) + len(raw or b"") for name, raw in self.headers)
        return len(self.key or b"") + len(self.value or b"") + header_bytes
