"""Hypothesis strategies that break documents the way hostile or buggy senders do: a
value replaced by any JSON value, a key removed, the whole body swapped for random JSON or
bytes. Seeds of failures found are kept as `@example`s in the tests that use these."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=24),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=16,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one to three of its values replaced or removed."""
    changed = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(changed))))
        if not path:
            return draw(json_values)
        parent, key = _parent(changed, path), path[-1]
        if draw(st.booleans()):
            parent[key] = draw(json_values)
        else:
            del parent[key]
    return changed


def bodies(document: Any) -> st.SearchStrategy[bytes]:
    """Request bodies: the document mutated (mostly), random JSON, or random bytes."""
    as_json = st.builds(lambda d: json.dumps(d).encode(), mutated(document))
    other = st.builds(lambda d: json.dumps(d).encode(), json_values)
    return st.one_of(as_json, as_json, other, st.binary(max_size=200))
