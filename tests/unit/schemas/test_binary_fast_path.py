"""The fast path for binary-mode records accepts only what the general path accepts,
with the same result; valid records in the usual spelling take it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.binding import general_from_record, to_binary
from schemas.envelope import EventError, OutcomeEvent
from schemas.events import EventType
from schemas.fast_path import (
    _COMPILED,
    _ENVELOPE_HEADERS,
    _TIME,
    Timed,
    _place_of,
    _usual_time,
    binary_envelope_of,
    from_binary,
    seconds_of,
)
from tests.support.events import DEFAULT_DATA, NOW, make_event

Headers = list[tuple[str, bytes | None]]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities included: json.dumps writes them as NaN/Infinity
    | st.text(max_size=12)
    | st.sampled_from(["2026-11-15T11:30:00Z", "2026-11-15T11:30:00", "1e3", "Ticket"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children)
    ),
    max_leaves=8,
)
number_spellings = st.sampled_from(
    ["1", "1.0", "1e2", "1E+2", "-0.0", "0.1", "1e400", "-1", "12345678901234567890", "00", ".5"]
)
time_spellings = st.sampled_from(
    [
        "2026-11-15T11:30:00Z",
        "2026-11-15T11:30:00.5+01:00",
        "2026-11-15T11:30:00.123456-09:30",
        "2026-11-15T11:30:00.1234567Z",
        "2026-11-15T11:30:00",
        "2026-11-15 11:30:00Z",
        "2026-11-15t11:30:00z",
        "2026-11-15T11:30Z",
        "2026-02-30T11:30:00Z",
        "2026-02-29T11:30:00Z",
        "2028-02-29T11:30:00Z",
        "2026-11-15T24:00:00Z",
        "2026-11-15T11:30:60Z",
        "2026-11-15T11:30:00+24:00",
        "2026-11-15T11:30:00-00:00",
        "0000-01-01T00:00:00Z",
        "20261115T113000Z",
        "\u0662\u0660\u0662\u0666-11-15T11:30:00Z",  # Arabic-Indic digits: \\d in some engines
        "2026-11-15T11:30:00.\uff15Z",  # a fullwidth digit
        "",
    ]
)
header_values = (
    st.binary(max_size=8)
    | st.text(max_size=8).map(str.encode)
    | st.sampled_from([b"\xff\xfe", b"1.0", b"", b"x" * 1025])
    | time_spellings.map(str.encode)
    | st.sampled_from([t.value.encode() for t in EventType])
    | st.none()
)
content_types = st.sampled_from(
    [
        b"application/json",
        b"application/json; charset=utf-8",
        b"APPLICATION/JSON",
        b"application/cloudevents+json",
        b"text/plain",
        b"",
        None,
    ]
)
header_names = st.sampled_from(
    ["ce_id", "ce_source", "ce_type", "ce_time", "ce_specversion", "ce_subject", "ce_"]
) | st.text(min_size=1, max_size=6).map(lambda text: "ce_" + text)


def mutated_data(draw: st.DrawFn, kind: EventType) -> bytes:
    """`data` with a field changed, dropped or added, or a number spelled differently."""
    data: dict[str, Any] = dict(DEFAULT_DATA[kind])
    key = draw(st.sampled_from(sorted(data)))
    action = draw(st.sampled_from(["keep", "replace", "remove", "add", "respell"]))
    if action == "replace":
        data[key] = draw(json_values)
    elif action == "remove":
        del data[key]
    elif action == "add":
        data[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    raw = json.dumps(data, default=str)
    numeric = [name for name, value in data.items() if isinstance(value, float)]
    if action == "respell" and numeric:
        name = draw(st.sampled_from(numeric))
        raw = raw.replace(
            f'"{name}": {json.dumps(data[name])}', f'"{name}": {draw(number_spellings)}'
        )
    return raw.encode()


def mutated_headers(draw: st.DrawFn, headers: Headers) -> Headers:
    """Headers with one change: a value, a name's case, a duplicate, a removal, the
    content type, or an extra header."""
    headers = list(headers)
    index = draw(st.integers(0, len(headers) - 1))
    name, raw = headers[index]
    action = draw(
        st.sampled_from(["keep", "value", "time", "case", "duplicate", "remove", "type", "add"])
    )
    if action == "value":
        headers[index] = (name, draw(header_values))
    elif action == "time":
        headers = [(n, draw(time_spellings).encode() if n == "ce_time" else v) for n, v in headers]
    elif action == "case":
        headers[index] = (draw(st.sampled_from([name.upper(), name.title()])), raw)
    elif action == "duplicate":
        spelled = draw(st.sampled_from([name, name.upper()]))
        headers.insert(draw(st.integers(0, len(headers))), (spelled, draw(header_values)))
    elif action == "remove":
        del headers[index]
    elif action == "type":
        headers = [(n, v) for n, v in headers if n != "content-type"]
        content_type = draw(content_types)
        if content_type is not None:
            headers.append(("content-type", content_type))
    elif action == "add":
        headers.append((draw(header_names), draw(header_values)))
    return headers


@st.composite
def binary_records(draw: st.DrawFn) -> tuple[bytes | None, Headers, bytes]:
    kind = draw(st.sampled_from(list(EventType)))
    record = to_binary(make_event(kind, time=NOW))
    headers = mutated_headers(draw, list(record.headers))
    value = mutated_data(draw, kind) if draw(st.booleans()) else record.value
    key = draw(st.sampled_from([record.key, record.key, None, b"someone-else"]))
    return key, headers, value


def general(key: bytes | None, headers: Headers, value: bytes) -> OutcomeEvent | None:
    try:
        return general_from_record(key, headers, value)
    except EventError:
        return None


def fast(key: bytes | None, headers: Headers, value: bytes) -> Timed | None:
    fields = binary_envelope_of(headers)
    return from_binary(fields, key, value) if fields is not None else None


def assert_agrees_with_general(
    quick: Timed | None, case: tuple[bytes | None, Headers, bytes]
) -> None:
    """A fast path's event (None: declined) is the general path's, to the time's offset;
    its epoch seconds are the datetime's."""
    if quick is not None:
        event, seconds = quick
        reference = general(*case)
        assert event == reference
        assert reference is not None and event.time.utcoffset() == reference.time.utcoffset()
        assert_seconds_of(event.time, seconds)


def assert_seconds_of(moment: datetime, seconds: float | None, *, fast: bool = True) -> None:
    """Epoch seconds a decoder gave with an event: `timestamp()` to the last bit; a fast
    path gives them whenever the module is compiled and the time is exact as a double."""
    if fast and _COMPILED and 1685 <= moment.year <= 2254:
        assert seconds is not None
    assert seconds is None or seconds == moment.timestamp()


def event_of(timed: Timed | None) -> OutcomeEvent | None:
    return None if timed is None else timed[0]


@settings(max_examples=1500, deadline=None)
@given(binary_records())
def test_the_fast_path_accepts_only_what_the_general_path_accepts_identically(
    case: tuple[bytes | None, Headers, bytes],
) -> None:
    assert_agrees_with_general(fast(*case), case)


def test_valid_records_take_the_fast_path() -> None:
    for kind in EventType:
        event = make_event(kind, time=NOW)
        record = to_binary(event)
        timed = fast(record.key, list(record.headers), record.value)
        assert timed is not None and timed[0] == event
        assert_seconds_of(event.time, timed[1])


def test_unusual_spellings_of_valid_records_go_the_general_way() -> None:
    event = make_event(time=NOW)
    record = to_binary(event)
    unusual: list[Headers] = [
        [(name.upper() if name == "ce_id" else name, raw) for name, raw in record.headers],
        [*record.headers, ("content-type", b"application/json; charset=utf-8")],
        [(n, b"2026-11-15T13:00:00.000+01:00" if n == "ce_time" else v) for n, v in record.headers],
    ]
    for headers in unusual[:2]:
        assert binary_envelope_of(headers) is None
        assert general(record.key, headers, record.value) == event
    assert event_of(fast(record.key, unusual[2], record.value)) == event  # same instant


usual_times = st.from_regex(_TIME.pattern, fullmatch=True)
time_bytes = st.sampled_from(sorted(set(b"0123456789-:.+TZtz \x00\xd9")))


def near_misses(name: str) -> list[str]:
    """Names one change away from `name`: each character replaced, case changed, one
    dropped or added; same length or not."""
    found = [name.upper(), name.title(), name + "_", "_" + name, name[:-1], name[1:]]
    for place in range(len(name)):
        found.append(name[:place] + "x" + name[place + 1 :])
        found.append(name[:place] + name[place].upper() + name[place + 1 :])
    return found


@given(st.text(max_size=16))
@settings(max_examples=2000)
def test_a_headers_place_is_the_tables(name: str) -> None:
    assert _place_of(name) == _ENVELOPE_HEADERS.get(name, -1)


def test_each_envelope_header_and_its_near_misses_find_their_place() -> None:
    for name, place in _ENVELOPE_HEADERS.items():
        assert _place_of(name) == place
        for other in near_misses(name):
            assert _place_of(other) == _ENVELOPE_HEADERS.get(other, -1), other


@given(
    st.binary(max_size=34)
    | usual_times
    | st.builds(
        lambda t, i, b: t[:i] + bytes([b]) + t[i + 1 :], usual_times, st.integers(0, 33), time_bytes
    )
    | st.builds(lambda t, i: t[:i] + t[i + 1 :], usual_times, st.integers(0, 33))
    | st.builds(
        lambda t, i, b: t[:i] + bytes([b]) + t[i:], usual_times, st.integers(0, 33), time_bytes
    )
)
@settings(max_examples=3000)
def test_the_time_checked_byte_by_byte_is_the_pattern(time: bytes) -> None:
    """What the compiled module checks by hand is what the regular expression matches: the
    usual spellings, and each with a byte replaced, dropped or added."""
    assert _usual_time(time) == (_TIME.fullmatch(time) is not None)


usual_moments = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999_999)
)
offsets_min = st.integers(-23 * 60 - 59, 23 * 60 + 59)


@given(usual_moments, offsets_min, st.integers(0, 6), st.booleans())
@settings(max_examples=3000)
def test_the_seconds_from_the_digits_are_the_datetimes_timestamp(
    moment: datetime, offset_min: int, digits: int, zulu: bool
) -> None:
    """Any valid time in the usual spelling (every year, offset and number of fraction
    digits): `seconds_of` is `timestamp()` to the last bit wherever that is exact as a
    double (1685 to 2255), and declines beyond."""
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"  # %Y does not pad years before 1000
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    if zulu:
        text += "Z"
    else:
        sign, size = ("+" if offset_min >= 0 else "-"), abs(offset_min)
        text += f"{sign}{size // 60:02d}:{size % 60:02d}"
    time = text.encode()
    assert _TIME.fullmatch(time) is not None
    stamp = datetime.fromisoformat(text).timestamp()
    seconds = seconds_of(time)
    if abs(stamp) < 9_007_199_254.0:  # 2**53 microseconds, less the float's rounding
        assert seconds == stamp
    elif abs(stamp) > 9_007_199_255.0:
        assert seconds is None
