"""What a source hands to the pipeline: one consumed record, broker-independent."""

from __future__ import annotations

import marshal
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
    event_s: float | None = None
    """That event's time in epoch seconds when the decoder computed it (exactly
    `event.time.timestamp()`)."""
    raw: bytes | None = None
    """For a record decoded in the fetcher process: its key, headers and value, marshalled
    as they travelled (one object instead of several per record); `key`, `headers` and
    `value` are left empty then, and `restored()` gives them back (for the dead-letter
    topic or the decoder)."""

    def restored(self) -> SourceRecord:
        """This record with its key, headers and value (itself unless they travel as `raw`)."""
        if self.raw is None:
            return self
        key, headers, value = marshal.loads(self.raw)
        return self._replace(key=key, headers=headers, value=value, raw=None)

    @property
    def size(self) -> int:
        """Bytes of key, value and headers, as the too_large limit counts them."""
        if self.serialized_size is not None:
            return self.serialized_size
        header_bytes = sum(len(name.encode()) + len(raw or b"") for name, raw in self.headers)
        return len(self.key or b"") + len(self.value or b"") + header_bytes


def size_of(record: SourceRecord) -> int:
    """`record.size`, read here where the client measured it: the property is Python code
    (a named tuple's class is not compiled), its `serialized_size` field a tuple item."""
    size = record.serialized_size
    return record.size if size is None else size
