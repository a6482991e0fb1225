"""`Tally` behaves as the `Counter` it replaces wherever the engine uses one: a missing key
reads 0 and is not added, sums and comparisons are a Counter's, and it survives pickling
(worker snapshots) and copying as itself."""

from __future__ import annotations

import copy
import pickle
from collections import Counter

import pytest

from collector.engine.tally import Tally


def test_a_tally_counts_as_a_counter_does() -> None:
    tally: Tally[str] = Tally()
    counter: Counter[str] = Counter()
    for key, n in [("a", 2), ("b", -1), ("a", 3), ("c", 0)]:
        tally[key] += n
        counter[key] += n
    assert tally == counter and dict(tally) == dict(counter)
    assert tally["missing"] == 0 and "missing" not in tally
    assert tally + Tally(a=1) == counter + Counter(a=1)
    assert tally.most_common(1) == [("a", 5)]
    tally.update(["a", "z"])  # counts, as Counter.update does
    assert (tally["a"], tally["z"]) == (6, 1)


def test_a_tally_survives_pickling_and_copying_as_itself() -> None:
    tally = Tally({("classify", "succeeded"): 3})
    for again in (pickle.loads(pickle.dumps(tally)), copy.deepcopy(tally), tally.copy()):
        assert type(again) is Tally and again == tally


def test_deleting_a_key_it_lacks_raises_as_in_a_dict() -> None:
    tally: Tally[str] = Tally(a=1)
    del tally["a"]
    assert not tally
    with pytest.raises(KeyError):
        del tally["a"]


def test_a_missing_key_of_any_kind_reads_as_the_integer_zero() -> None:
    """The engine's keys are names, (automation, outcome) pairs and epoch days."""
    tally: Tally[object] = Tally()
    for key in ("label", ("classify", "succeeded"), 20_429, 0, "", None):
        assert tally[key] == 0 and type(tally[key]) is int
        assert key not in tally
        tally[key] += 7
    assert list(tally.values()) == [7] * 6


def test_a_tally_is_built_from_a_mapping_as_a_counter_is_and_refuses_bare_keys() -> None:
    """Built by dict's `__init__` (a `Counter`'s is Python): from a mapping, keyword
    arguments or nothing the result is the Counter's; an iterable of keys, which a Counter
    would count, is refused instead of being read as pairs."""
    stored = {("classify", "succeeded"): 3, ("classify", "failed"): 0, ("patch", "failed"): -2}
    assert Tally(stored) == Counter(stored) and dict(Tally(stored)) == stored
    assert Tally(Counter(a=2)) == Counter(a=2) and Tally(a=1, b=2) == Counter(a=1, b=2)
    assert Tally() == Counter() and type(Tally(stored)) is Tally
    with pytest.raises((TypeError, ValueError)):
        Tally(["a", "b"])
