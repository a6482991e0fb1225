"""Record -> validated `OutcomeEvent` (with its epoch seconds when the decoder computed
them), or a permanent rejection with a reason."""

from __future__ import annotations

from collector.source.records import SourceRecord, size_of
from schemas.binding import from_record_timed
from schemas.envelope import EventError, Reason
from schemas.fast_path import Timed


def decode(record: SourceRecord, max_event_bytes: int) -> Timed:
    """Validate one record. Raises `EventError` only; any input is safe to pass."""
    size = size_of(record)
    if size > max_event_bytes:
        raise EventError(
            Reason.TOO_LARGE, f"record is {size} bytes, the limit is {max_event_bytes}"
        )
    try:
        return from_record_timed(record.key, record.headers, record.value)
    except EventError:
        raise
    except Exception as error:  # noqa: BLE001 - a poison message must never stop a partition
        raise EventError(
            Reason.MALFORMED, f"undecodable: {type(error).__name__}: {error}"
        ) from None
