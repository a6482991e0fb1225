"""The one-pass validation of binary-mode data agrees with json.loads + parse_event."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.binding import event_attributes, to_binary
from schemas.envelope import EventError, OutcomeEvent, parse_binary_event, parse_event
from schemas.events import EventType
from tests.support.events import DEFAULT_DATA, NOW, make_event

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


@st.composite
def binary_inputs(draw: st.DrawFn) -> tuple[dict[str, Any], bytes]:
    """Attributes and data bytes of a valid event with a field changed, dropped or added,
    or a number spelled differently in the raw JSON."""
    kind = draw(st.sampled_from(list(EventType)))
    data: dict[str, Any] = dict(DEFAULT_DATA[kind])
    attributes: dict[str, Any] = event_attributes(make_event(kind, time=NOW))
    target = draw(st.sampled_from([data, attributes]))
    key = draw(st.sampled_from(sorted(target)))
    action = draw(st.sampled_from(["keep", "replace", "remove", "add", "respell"]))
    if action == "replace":
        target[key] = draw(json_values)
    elif action == "remove":
        del target[key]
    elif action == "add":
        target[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    raw = json.dumps(data, default=str)
    numeric = [name for name, value in data.items() if isinstance(value, float)]
    if action == "respell" and numeric:
        name = draw(st.sampled_from(numeric))
        raw = raw.replace(
            f'"{name}": {json.dumps(data[name])}', f'"{name}": {draw(number_spellings)}'
        )
    return attributes, raw.encode()


def slow_path(attributes: dict[str, Any], data: bytes) -> OutcomeEvent | None:
    try:
        return parse_event(attributes, json.loads(data))
    except (EventError, ValueError):
        return None


@settings(max_examples=500, deadline=None)
@given(binary_inputs())
def test_fast_path_accepts_only_what_the_general_path_accepts_identically(
    case: tuple[dict[str, Any], bytes],
) -> None:
    attributes, data = case
    fast = parse_binary_event(attributes, data)
    slow = slow_path(attributes, data)
    if fast is not None:
        assert fast == slow


def test_valid_records_take_the_fast_path() -> None:
    for kind in EventType:
        event = make_event(kind, time=NOW)
        record = to_binary(event)
        headers = {name[3:]: value.decode() for name, value in record.headers if name[:3] == "ce_"}
        assert parse_binary_event(headers, record.value) == event
