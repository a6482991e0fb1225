"""The fast path for the common record: a valid event in the usual spelling.

`binding.from_record` is exact for every input but builds several intermediate objects
per record. Most records are binary-mode events with lowercase `ce_` headers,
`content-type: application/json` and an RFC 3339 time in its usual spelling. For those
the envelope is checked in one pass over the raw headers (`binary_envelope_of`) and
`data` is validated by pydantic straight from the bytes (`from_binary`).

A structured-mode record (`content-type: application/cloudevents+json`, or no header at
all) is validated in one pass by pydantic-core straight from its bytes: one TypedDict per
event type with the envelope's attributes and rules and its `data` model, discriminated by
`type` (`from_structured`), instead of `json.loads` and two validations.

All return None for anything else, and `from_record` then takes the general path,
which decides and reports what is wrong. They accept only what the general path
accepts, with the same result: property tests check that against it.

Compiled, they also give the event time in epoch seconds, computed from the digits just
checked (`seconds_of`): `datetime.timestamp()` costs the engine ≈ 2,300 machine
instructions an event (Python's integer arithmetic), the digits ≈ 500.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Final, Literal, NotRequired, Union

from mypy_extensions import i64
from pydantic import Field, Strict, StringConstraints, TypeAdapter
from typing_extensions import TypedDict

from schemas.envelope import TIED_TYPES, Envelope, OutcomeEvent, inconsistency
from schemas.events import DATA_MODELS, EventType

EnvelopeFields = tuple[bytes, bytes, EventType, bytes]
"""The checked envelope of a known type: the raw id and source headers, the type, the raw
time header; `from_binary` completes the event."""
Timed = tuple[OutcomeEvent, float | None]
"""An event and its time in epoch seconds, `event.time.timestamp()` to the last bit, when
the decoder computed it (`seconds_of`; None: ask the datetime)."""

_EVENT_TYPES: Final = {event_type.value.encode(): event_type for event_type in EventType}
_TYPES_BY_VALUE: Final = {event_type.value: event_type for event_type in EventType}
_VALIDATORS: Final = {kind: model.__pydantic_validator__ for kind, model in DATA_MODELS.items()}
"""Each data model's validator, called directly (`model_validate_json` adds a layer)."""
_new: Final = tuple.__new__
"""Makes an `OutcomeEvent` from all its fields without its `__new__` (half the cost): the
fast paths give every field, so a new field of `OutcomeEvent` must be added there too."""
_EVENT: Final = OutcomeEvent
_TIED: Final = TIED_TYPES
_from_iso: Final = datetime.fromisoformat
"""(`Final`: mypyc keeps these in C, and looks any other global up in the module's dict)"""
if OutcomeEvent._fields != ("id", "source", "type", "time", "data", "backfill"):
    raise ImportError(f"the fast paths do not make OutcomeEvent{OutcomeEvent._fields}")
_MAX_ATTRIBUTE: Final = 1024
"""Characters; a value of at most this many bytes has at most this many characters."""
_TIME_PATTERN: Final = (
    "[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    "T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[.][0-9]{1,6})?"
    "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
"""RFC 3339 as producers spell it; pydantic and `datetime.fromisoformat` read it alike
(ASCII digits only: `[0-9]`, as `\\d` is Unicode-aware in pydantic-core's regex engine)."""
_TIME: Final = re.compile(_TIME_PATTERN.encode())
"""`_usual_time`'s language (the tests compare the two)."""
_COMPILED: Final = not __file__.endswith((".py", ".pyc"))
"""Whether this module runs as mypyc compiled it: then `_usual_time` checks a time and
`seconds_of` reads it, else `_TIME` checks it (300 ns; `_usual_time` in Python takes
1.5 µs) and the engine asks the datetime for its seconds."""
_EXACT_US: Final[i64] = 1 << 53
"""Microseconds since the epoch below this in magnitude (years 1685 to 2255) are exact as
a double: their quotient by a million is then the correctly rounded one `timestamp()`
gives."""
_DASH: Final = 45
_COLON: Final = 58
_DOT: Final = 46
_PLUS: Final = 43
_T: Final = 84
_Z: Final = 90
"""The bytes of `-:.+TZ` (ints: constants the compiled module inlines)."""


_ENVELOPE_HEADERS: Final = {
    "content-type": 0, "ce_specversion": 1, "ce_id": 2, "ce_source": 3, "ce_type": 4, "ce_time": 5,
}  # fmt: skip
"""The headers of the usual binary-mode record, by their place in `binary_envelope_of`."""


def binary_envelope_of(headers: Sequence[tuple[str, bytes | None]]) -> EnvelopeFields | None:
    """The envelope of a binary-mode record in the usual spelling, or None.

    Works on the raw bytes: `from_binary` decodes id and source (and declines what is
    not UTF-8); the values of any other attribute are checked here. The usual record has
    the envelope's headers only, each once: one pass over them (a record with any other
    header is read by `_envelope_among_others`, with the same result).
    """
    found: list[bytes | None] = [None, None, None, None, None, None]
    seen = 0
    for name, raw in headers:
        place = _place_of(name)
        if place < 0:
            return _envelope_among_others(headers)
        bit = 1 << place
        if seen & bit:
            return None  # a repeated header: the general path checks which copy counts
        seen |= bit
        found[place] = raw
    return _checked(found, None)


def _place_of(name: str) -> i64:
    """`_ENVELOPE_HEADERS.get(name, -1)`, by length and comparison: a client makes a new
    string per header name, so a dict lookup hashes it first (compiled, about 410 machine
    instructions a header against 60 here; a test holds the two alike)."""
    size = len(name)
    if size == 5:
        return 2 if name == "ce_id" else -1
    if size == 7:
        return 5 if name == "ce_time" else 4 if name == "ce_type" else -1
    if size == 9:
        return 3 if name == "ce_source" else -1
    if size == 12:
        return 0 if name == "content-type" else -1
    if size == 14:
        return 1 if name == "ce_specversion" else -1
    return -1


def _envelope_among_others(
    headers: Sequence[tuple[str, bytes | None]],
) -> EnvelopeFields | None:
    """`binary_envelope_of` for a record whose headers are more than the envelope's."""
    found = dict(headers)
    if len(found) != len(headers):
        return None  # a repeated header: the general path checks which copy counts
    envelope = [found.pop(name, None) for name in _ENVELOPE_HEADERS]
    return _checked(envelope, found)


def _checked(
    envelope: list[bytes | None], others: dict[str, bytes | None] | None
) -> EnvelopeFields | None:
    """The envelope (the values of `_ENVELOPE_HEADERS`, in order) if it is in the usual
    spelling (`others`: the headers beside it, if any), else None."""
    content_type, specversion, event_id, source, type_name, time = envelope
    event_type = _EVENT_TYPES.get(type_name or b"")  # looked up once, here
    if (
        content_type not in (None, b"application/json")
        or specversion != b"1.0"
        or not event_id
        or not source
        or len(event_id) > _MAX_ATTRIBUTE
        or len(source) > _MAX_ATTRIBUTE
        or event_type is None
        or time is None
        or not (_usual_time(time) if _COMPILED else _TIME.fullmatch(time) is not None)
        or (
            others
            and (
                "ce_outcomesbackfill" in others  # history: rare, the general path reads it
                or not _usual_extensions(others)
            )
        )
    ):
        return None
    return event_id, source, event_type, time


def _usual_time(time: bytes) -> bool:
    """Whether `time` matches `_TIME_PATTERN` in full, checked byte by byte: compiled,
    ≈ 360 machine instructions a record (`i64` arithmetic) against the regular
    expression's ≈ 3,100."""
    size: i64 = len(time)
    if (
        size < 20 or size > 32  # `…SSZ` up to `…SS.ffffff+HH:MM`
        or time[4] != _DASH or time[7] != _DASH or time[10] != _T
        or time[13] != _COLON or time[16] != _COLON
        or _two(time, 0) < 0 or _two(time, 2) < 0
        or not 1 <= _two(time, 5) <= 12 or not 1 <= _two(time, 8) <= 31
        or not 0 <= _two(time, 11) <= 23 or not 0 <= _two(time, 14) <= 59
        or not 0 <= _two(time, 17) <= 59
    ):  # fmt: skip
        return False
    place: i64 = 19
    if time[place] == _DOT:
        place += 1
        while place < size and 48 <= time[place] <= 57:
            place += 1
        if not 21 <= place <= 26:  # one to six digits
            return False
    rest = size - place
    if rest == 1:
        return time[place] == _Z
    return (
        rest == 6
        and (time[place] == _PLUS or time[place] == _DASH)
        and time[place + 3] == _COLON
        and 0 <= _two(time, place + 1) <= 23
        and 0 <= _two(time, place + 4) <= 59
    )


def _two(time: bytes, place: i64) -> i64:
    """The number of the two ASCII digits at `place`, or -1 if either is no digit."""
    high, low = i64(time[place]) - 48, i64(time[place + 1]) - 48
    if 0 <= high <= 9 and 0 <= low <= 9:
        return high * 10 + low
    return -1


def seconds_of(time: bytes) -> float | None:
    """`datetime.fromisoformat(time).timestamp()` of a valid time in the usual spelling
    (`_TIME_PATTERN`, checked before): the same float, from the digits; None when that
    is not exact as a double (before 1685 or after 2255). The fast paths call it when
    compiled: in Python `timestamp()` costs less than these lines. Native 64-bit integers
    (`i64`: mypyc's machine arithmetic; all values here are far from their bounds)."""
    year: i64 = _two(time, 0) * 100 + _two(time, 2)
    month, day = _two(time, 5), _two(time, 8)
    # days since 1970-01-01 of a proleptic Gregorian date, counted in 400-year eras from
    # 0000-03-01 (March first: a leap day ends its year)
    march_year = year - 1 if month <= 2 else year
    era = march_year // 400
    of_era = march_year - era * 400
    of_year = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    days = era * 146_097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719_468
    seconds = days * 86_400 + _two(time, 11) * 3_600 + _two(time, 14) * 60 + _two(time, 17)
    micros: i64 = 0
    place: i64 = 19
    if time[place] == _DOT:
        scale: i64 = 100_000
        place += 1
        while 48 <= time[place] <= 57:
            micros += (i64(time[place]) - 48) * scale
            scale //= 10
            place += 1
    if time[place] != _Z:  # `+HH:MM` or `-HH:MM`: local time, ahead of UTC by that
        offset = _two(time, place + 1) * 3_600 + _two(time, place + 4) * 60
        seconds -= offset if time[place] == _PLUS else -offset
    total = seconds * 1_000_000 + micros
    if -_EXACT_US < total < _EXACT_US:
        return float(total) / 1e6
    return None


def _usual_extensions(others: dict[str, bytes | None]) -> bool:
    """Whether the headers beside the envelope are ignored or lowercase `ce_` extension
    attributes in UTF-8 (the general path folds case and decodes every attribute)."""
    for name, raw in others.items():
        lowered = name.lower()
        if lowered[:3] == "ce_":
            if name != lowered or not _utf8(raw):
                return False
        elif lowered == "content-type":
            return False
    return True


def _utf8(raw: bytes | None) -> bool:
    try:
        (raw or b"").decode()
    except UnicodeDecodeError:
        return False
    return True


def from_binary(fields: EnvelopeFields, key: bytes | None, value: bytes | None) -> Timed | None:
    """The event of a record whose envelope `binary_envelope_of` returned, with its epoch
    seconds; None unless its id, source, time, `data` and key are valid too."""
    if not value or key is None:
        return None
    raw_id, raw_source, event_type, time = fields
    try:
        event_id, source = raw_id.decode(), raw_source.decode()
        moment = _from_iso(time.decode())  # a day that does not exist raises
        payload = _VALIDATORS[event_type].validate_json(value)
    except ValueError:  # UnicodeDecodeError and ValidationError included
        return None
    if key != payload.project.encode():
        return None
    event = _new(_EVENT, (event_id, source, event_type, moment, payload, False))
    if event_type in _TIED and inconsistency(event) is not None:
        return None
    return event, seconds_of(time) if _COMPILED else None


def _structured_shape(event_type: EventType) -> Any:
    """`Envelope`'s attributes with their rules (the general path's), as a TypedDict: this
    event type's `type` value and `data` model; the optional attributes absent when not
    sent. pydantic-core builds a dict instead of a model instance: a third faster, and
    nothing but the event is kept. Other extensions are ignored here as there, but
    `data_base64`, which only the general path reads."""
    fields: dict[str, Any] = {}
    for name, info in Envelope.model_fields.items():
        annotation = info.rebuild_annotation()
        fields[name] = annotation if info.is_required() else NotRequired[annotation]
    fields["type"] = Literal[event_type.value]
    # the usual spelling as text (numbers refused), read by `datetime.fromisoformat` as in
    # binary mode: its datetime's timezone is `datetime.UTC`, whose offset the engine reads
    # in 0.17 µs, against 0.55 µs for pydantic-core's own `TzInfo`; anything else is
    # left to the general path
    fields["time"] = Annotated[str, Strict(), StringConstraints(pattern=f"^{_TIME_PATTERN}$")]
    fields["data"] = DATA_MODELS[event_type]
    fields["data_base64"] = NotRequired[Any]
    return TypedDict(f"Structured{DATA_MODELS[event_type].__name__}", fields)  # type: ignore[operator]


_ANY_STRUCTURED: Any = Annotated[
    Union[tuple(_structured_shape(event_type) for event_type in EventType)],  # noqa: UP007
    Field(discriminator="type"),
]
_STRUCTURED: Final[TypeAdapter[dict[str, Any]]] = TypeAdapter(_ANY_STRUCTURED)
"""One validator for every event type: pydantic-core parses the bytes and picks the shape
by `type` (the union is built from the event types, so a new one joins it)."""
_STRUCTURED_VALIDATOR: Final = _STRUCTURED.validator
"""Its pydantic-core validator, called directly: `TypeAdapter.validate_json` adds a Python
call with its keyword arguments (0.3 µs of 2.9 an event)."""
_STRUCTURED_CONTENT_TYPE: Final = b"application/cloudevents+json"


def from_structured(
    key: bytes | None, headers: Sequence[tuple[str, bytes | None]], value: bytes | None
) -> Timed | None:
    """The event of a structured-mode record in the usual spelling with its epoch seconds,
    or None (then the general path decides). Usual: no header, or only `content-type:
    application/cloudevents+json`; no `data_base64`; `datacontenttype` absent or
    `application/json`."""
    if not value or key is None or value[:1] != b"{":
        return None
    if headers and (
        len(headers) != 1
        or headers[0][0] != "content-type"
        or headers[0][1] != _STRUCTURED_CONTENT_TYPE
    ):
        return None
    try:
        parsed: dict[str, Any] = _STRUCTURED_VALIDATOR.validate_json(value)
        time: str = parsed["time"]
        moment = _from_iso(time)  # a day that does not exist raises
    except ValueError:  # ValidationError included
        return None
    data = parsed["data"]
    if (
        "data_base64" in parsed
        or parsed.get("datacontenttype") not in (None, "application/json")
        or key != data.project.encode()
    ):
        return None
    fields = (
        parsed["id"],
        parsed["source"],
        _TYPES_BY_VALUE[parsed["type"]],
        moment,
        data,
        parsed.get("outcomesbackfill", False),
    )
    event = _new(_EVENT, fields)
    if event.type in _TIED and inconsistency(event) is not None:
        return None
    # ASCII: the pattern allows nothing else
    return event, seconds_of(time.encode()) if _COMPILED else None
