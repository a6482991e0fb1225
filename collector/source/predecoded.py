"""Events decoded in the fetcher process, carried to the collector in plain values.

Decoding and validating a record costs about a quarter of the ingest thread's time per
event, and the fetcher process (the Kafka consumer) has CPU to spare. So the fetcher
decodes each record (`schemas.binding.from_record`, the one decoder) and sends the event
beside the raw record as a marshal-able tuple (`pack`); the collector rebuilds the same
`OutcomeEvent` without validating it again (`unpack`): about a quarter of the cost.

The fetcher decodes a share of the records only (`DecodeShare`): as many as keep both
processes busy. When the collector has not read what was sent, decoding more in the
fetcher helps; when the collector waits for the fetcher, less.

A record the fetcher did not or could not decode travels raw only; the collector decodes it and
reports what is wrong, or translates it (a tool's record). The raw record always travels
too, as one bytes object beside a decoded event (`SourceRecord.raw`, read again only for a
rejection): a rejection sends it to the dead-letter topic byte for byte.

`unpack` builds the pydantic models of `data` as `BaseModel.model_construct` does, from
values they were validated into in the fetcher (model_construct itself costs 4x more per
event); a unit test holds the round trip to the decoder's result, field for field. The
event time's epoch seconds travel too when the decoder computed them
(`schemas.fast_path.seconds_of`): the collector need not ask the datetime.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from schemas.binding import from_record_timed
from schemas.envelope import OutcomeEvent
from schemas.events import DATA_MODELS, EventData, EventType
from schemas.fast_path import Timed

Packed = tuple[int, str, str, str, bool, dict[str, Any], set[str], float | None]
"""(event type index, id, source, time in ISO 8601, backfill, data's fields, the names
of the fields the record set, the time in epoch seconds if the decoder computed it)."""

PredecodedFields = tuple[int, int, int, Packed, bytes]
"""A record decoded in the fetcher, as sent: (offset, timestamp in ms, size, its event
packed, its key, headers and value marshalled: `SourceRecord.raw`)."""

MAX_PREDECODED_BYTES: Final = 65_536
"""Larger records travel raw only: the collector judges their size first (too_large)."""
RAW_ONLY: Final = frozenset({EventType.COST_STATEMENT})
"""Rare events with nested models (a statement's lines): they travel raw, decoded once."""
_TYPES: Final = tuple(EventType)
_INDEX: Final = {event_type: index for index, event_type in enumerate(_TYPES)}
_MODELS: Final = tuple(DATA_MODELS[event_type] for event_type in _TYPES)
_TIMESTAMPS: Final = tuple(
    tuple(
        name
        for name, field in model.model_fields.items()
        if "datetime" in str(field.annotation).lower()
    )
    for model in _MODELS
)
"""Per event type, the fields of `data` holding a datetime (sent as ISO 8601 text)."""
# `Final`: mypyc keeps these in C (any other global it looks up in the module's dict)
_new: Final = object.__new__
_set: Final = object.__setattr__
_from_iso: Final = datetime.fromisoformat
_make: Final = tuple.__new__
_EVENT: Final = OutcomeEvent


def predecode(
    key: bytes | None, headers: Sequence[tuple[str, bytes | None]], value: bytes | None
) -> Packed | None:
    """The record's event, packed; None when it is not a valid outcome event (or large)."""
    if value is not None and len(value) > MAX_PREDECODED_BYTES:
        return None
    try:
        event, event_s = from_record_timed(key, headers, value)
    except Exception:  # noqa: BLE001 - the collector decodes it again and says why
        return None
    return None if event.type in RAW_ONLY else pack(event, event_s)


def pack(event: OutcomeEvent, event_s: float | None = None) -> Packed:
    data = event.data
    index = _INDEX[event.type]
    fields = data.__dict__  # marshal copies it: a copy here only to change datetimes
    timestamps = _TIMESTAMPS[index]
    if timestamps:
        fields = dict(fields)
        for name in timestamps:
            moment = fields[name]
            if moment is not None:
                fields[name] = moment.isoformat()
    return (
        index,
        event.id,
        event.source,
        event.time.isoformat(),
        event.backfill,
        fields,
        data.__pydantic_fields_set__,  # a set: marshal carries sets
        event_s,
    )


def unpack(packed: Packed) -> Timed:
    """The event and its epoch seconds (None: not computed by the decoder)."""
    index, event_id, source, time, backfill, fields, fields_set, event_s = packed
    for name in _TIMESTAMPS[index]:
        text = fields[name]
        if text is not None:
            fields[name] = _from_iso(text)
    model = _MODELS[index]
    data: EventData = _new(model)
    _set(data, "__dict__", fields)
    _set(data, "__pydantic_fields_set__", fields_set)
    _set(data, "__pydantic_extra__", None)
    _set(data, "__pydantic_private__", None)
    event: OutcomeEvent = _make(
        _EVENT, (event_id, source, _TYPES[index], _from_iso(time), data, backfill)
    )
    return event, event_s


class DecodeShare:
    """Which records the fetcher decodes: a share that moves toward the balance of the two
    processes, one step at a time, spread evenly over the records (error diffusion)."""

    STEP: Final = 0.1

    def __init__(self, share: float = 1.0) -> None:
        self.share = share
        self._credit = 0.0

    def observe(self, collector_behind: bool) -> None:
        """Before a batch is sent: whether the collector still holds unread batches."""
        if collector_behind:
            self.share = min(1.0, self.share + self.STEP)
        else:
            self.share = max(0.0, self.share - self.STEP)

    def take(self) -> bool:
        """Whether to decode the next record here."""
        self._credit += self.share
        if self._credit >= 1.0:
            self._credit -= 1.0
            return True
        return False
