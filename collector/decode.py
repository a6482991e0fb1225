"""Record -> validated `OutcomeEvent`, or a permanent rejection with a reason."""

from __future__ import annotations

from collector.source.records import SourceRecord
from schemas.binding import from_record, general_from_record
from schemas.envelope import EventError, OutcomeEvent, Reason
from schemas.fast_path import from_binary


def decode(record: SourceRecord, max_event_bytes: int) -> OutcomeEvent:
    """Validate one record. Raises `EventError` only; any input is safe to pass."""
    if record.size > max_event_bytes:
        raise EventError(
            Reason.TOO_LARGE, f"record is {record.size} bytes, the limit is {max_event_bytes}"
        )
    try:
        if record.envelope is None:
            return from_record(record.key, record.headers, record.value)
        # the fetcher process checked the envelope already: the fast path's first half
        event = from_binary(record.envelope, record.key, record.value)
        if event is not None:
            return event
        return general_from_record(record.key, record.headers, record.value)
    except EventError:
        raise
    except Exception as error:  # noqa: BLE001 - a poison message must never stop a partition
        raise EventError(
            Reason.MALFORMED, f"undecodable: {type(error).__name__}: {error}"
        ) from None
