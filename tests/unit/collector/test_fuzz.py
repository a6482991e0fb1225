"""Hostile input: random bytes, random JSON and near-valid events never escape the
pipeline as an exception; every record is accepted or dead-lettered with a reason."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.pipeline import Pipeline
from collector.state.sqlite import SqliteStore
from schemas.binding import KafkaRecord, to_structured_dict
from schemas.envelope import Reason
from tests.support.doubles import MemoryDeadLetters, MemorySource
from tests.support.engines import new_engine
from tests.support.events import NOW, make_event

REASONS = {reason.value for reason in Reason}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
headers = st.lists(
    st.tuples(
        st.sampled_from(["content-type", "ce_specversion", "ce_type", "ce_id", "ce_source", "ce_time", "x"]),
        st.one_of(st.none(), st.binary(max_size=30), st.sampled_from([b"1.0", b"application/json",
                  b"application/cloudevents+json", b"outcomes.run.finished", b"2026-11-15T12:00:00Z"])),
    ),
    max_size=6,
)  # fmt: skip


@st.composite
def near_valid(draw: st.DrawFn) -> bytes:
    """A valid structured event with one field replaced, removed or added."""
    document: dict[str, Any] = to_structured_dict(make_event(time=NOW))
    target = draw(st.sampled_from([document, document["data"]]))
    key = draw(st.sampled_from(sorted(target)))
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        target[key] = draw(json_values)
    elif action == "remove":
        del target[key]
    else:
        target[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    return json.dumps(document, default=str).encode()


records = st.builds(
    KafkaRecord,
    key=st.one_of(st.just(b"ticket-triage"), st.binary(max_size=20)),
    headers=headers,
    value=st.one_of(
        st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()), near_valid()
    ),
)


@settings(max_examples=300, deadline=None)
@given(batch=st.lists(records, min_size=1, max_size=20))
def test_every_record_is_accepted_or_dead_lettered_with_a_reason(batch: list[KafkaRecord]) -> None:
    source, dead = MemorySource(), MemoryDeadLetters()
    store = SqliteStore(":memory:")
    pipeline = Pipeline(new_engine(), store, dead, publish=lambda s: None)
    pipeline.source = source
    pipeline.assign("events", [0])
    source.add(batch)
    pipeline.process(source.poll(0))  # must not raise
    health = pipeline.engine.snapshot().health
    results: dict[str, int] = {}
    for _, result, n in health.events:
        results[result] = results.get(result, 0) + n
    counted = sum(results.values())
    assert counted == len(batch)
    assert results.get("rejected", 0) == len(dead.sent)
    assert {error.reason.value for _, error in dead.sent} <= REASONS
    assert all(error.detail for _, error in dead.sent)
    store.close()
