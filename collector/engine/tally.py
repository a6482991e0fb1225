"""`Tally`: the engine's counters, a `Counter` whose item assignment is dict's own.

`Counter` defines `__delitem__` in Python, and item assignment and deletion share one
type slot: every `counts[key] += n` on a Counter goes through a Python-level slot and
costs twice a dict's (110 against 56 ns on CPython 3.11). A run updates ten of them.
Its `__missing__` is Python too (each key's first `+=`): here a C function.

Reading one is dearer still: `dict.__getitem__` is a method, not a slot wrapper, so every
`dict` subclass reads items through a Python-level slot (46 against 22 ns). The per-event
code reads with `counts.get(key, 0)` and assigns the sum: compiled, mypyc calls dict's
C lookup for that on any `dict` subclass (`CPyDict_Get`, about 180 machine instructions,
against 290 for a call of `dict.get` itself and 390 for `counts[key]`).

A `Counter` is built in Python too (`__init__` and `update`: a new month builds a dozen).
A `Tally` is built from a mapping only, by dict's own `__init__`: the same result.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, TypeVar

_K = TypeVar("_K")


class Tally(Counter[_K]):
    """A `Counter` in all but two things: deleting a key it lacks raises `KeyError`, as in
    a dict (the engine never deletes from its counters), and it is built from a mapping
    only."""

    __slots__ = ()
    if not TYPE_CHECKING:  # to mypy, `Counter`'s (dict's own makes a `Tally` an `Any`)
        __init__ = dict.__init__
        """From a mapping (or nothing) only: a `Counter` also counts an iterable of keys."""
    __delitem__ = dict.__delitem__  # type: ignore[assignment]
    __missing__ = staticmethod(().count)  # type: ignore[assignment]
    """A missing key counts 0, as in a `Counter`, whose `__missing__` is a Python function:
    the first `+=` of each key (a new automation, every key of a new month) called it. The
    empty tuple's `count` is a C function of one argument that gives 0 for any: half the
    cost (CPython calls `__missing__` with the key alone, a static method unbound)."""
