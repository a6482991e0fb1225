"""What a source hands to the pipeline: one consumed record, broker-independent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from schemas.envelope import OutcomeEvent


class SourceRecord(NamedTuple):
    """Immutable; a named tuple because one is built per consumed record (cheaper than
    a frozen dataclass)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    headers: Sequence[tuple[str, bytes | None]]
    value: bytes | None
    timestamp_ms: int = 0
    serialized_size: int | None = None
    """Bytes of key, value and headers when the client measured them already."""
    event: OutcomeEvent | None = None
    """The record's event when the fetcher process decoded it already
    (`collector.source.predecoded`); else the pipeline decodes the record."""

    @property
    def size(self) -> int:
        """Bytes of key, value and headers, as the too_large limit counts them."""
        if self.serialized_size is not None:
            return self.serialized_size
        header_bytes = sum(len(name.encode()) + len(raw or b"") for name, raw in self.headers)
        return len(self.key or b"") + len(self.value or b"") + header_bytes
