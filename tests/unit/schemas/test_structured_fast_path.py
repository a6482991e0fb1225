"""The fast path for structured-mode records (one pydantic-core validation of the bytes)
accepts only what the general path accepts, with the same result; valid records in the
usual spelling take it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.binding import to_structured, to_structured_dict
from schemas.events import EventType
from schemas.fast_path import from_structured
from tests.support.events import NOW, make_event
from tests.unit.schemas.test_binary_fast_path import (
    assert_agrees_with_general,
    assert_seconds_of,
    event_of,
    json_values,
    number_spellings,
    time_spellings,
)

Headers = list[tuple[str, bytes | None]]
ATTRIBUTES = ("specversion", "id", "source", "type", "time", "datacontenttype", "partitionkey",
              "subject", "dataschema", "outcomesbackfill", "data_base64", "extension")  # fmt: skip


@st.composite
def structured_records(draw: st.DrawFn) -> tuple[bytes | None, Headers, bytes]:
    kind = draw(st.sampled_from(list(EventType)))
    event = make_event(kind, time=NOW)
    document: dict[str, Any] = to_structured_dict(event)
    action = draw(st.sampled_from(["keep", "attribute", "drop", "data", "time", "respell"]))
    if action == "attribute":
        document[draw(st.sampled_from(ATTRIBUTES))] = draw(
            json_values | st.sampled_from(["application/json", "text/plain", "true", True, "1.0"])
        )
    elif action == "drop":
        document.pop(draw(st.sampled_from(sorted(document))))
    elif action == "data":
        data = document["data"]
        name = draw(st.sampled_from(sorted(data)))
        if draw(st.booleans()):
            data[name] = draw(json_values)
        else:
            del data[name]
    elif action == "time":
        document["time"] = draw(time_spellings)
    # compact, as our SDK and most writers spell it, or spaced as `json.dumps` does
    separators = draw(st.sampled_from([(",", ":"), (", ", ": ")]))
    raw = json.dumps(document, default=str, separators=separators)
    numbers = [n for n, v in document["data"].items() if isinstance(v, float)] if isinstance(
        document.get("data"), dict) else []  # fmt: skip
    if action == "respell" and numbers:
        name = draw(st.sampled_from(numbers))
        colon = separators[1]
        old = f'"{name}"{colon}{json.dumps(document["data"][name])}'
        raw = raw.replace(old, f'"{name}"{colon}{draw(number_spellings)}')
    headers: Headers = draw(st.sampled_from([
        [("content-type", b"application/cloudevents+json")], [],
        [("content-type", b"application/cloudevents+json; charset=utf-8")],
        [("content-type", b"application/json")], [("CONTENT-TYPE", b"application/cloudevents+json")],
    ]))  # fmt: skip
    key = draw(st.sampled_from([event.project.encode(), event.project.encode(), None, b"x"]))
    return key, headers, raw.encode()


@settings(max_examples=1500, deadline=None)
@given(structured_records())
def test_the_fast_path_accepts_only_what_the_general_path_accepts_identically(
    case: tuple[bytes | None, Headers, bytes],
) -> None:
    assert_agrees_with_general(from_structured(*case), case)


def test_valid_records_take_the_fast_path() -> None:
    for kind in EventType:
        event = make_event(kind, time=NOW)
        record = to_structured(event)
        for headers in (list(record.headers), []):
            timed = from_structured(record.key, headers, record.value)
            assert timed is not None and timed[0] == event
            assert_seconds_of(event.time, timed[1])
        history = event._replace(backfill=True)
        assert event_of(from_structured(record.key, [], to_structured(history).value)) == history
