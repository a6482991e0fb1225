"""Fixed-point arithmetic so sums are exact and independent of event order.

Every amount (currency) and duration (seconds) is held as an integer count of
millionths. Each incoming float is rounded once, half-to-even, from its shortest
decimal representation, so `0.1 + 0.2` is exactly `0.3` and any permutation of the
same events gives bit-identical totals.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

SCALE: Final = 1_000_000
_QUANTUM: Final = Decimal(1)


def to_micros(value: float) -> int:
    """`value` (finite) in millionths, rounded half-to-even."""
    return int((Decimal(repr(value)) * SCALE).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN))


def from_micros(micros: int) -> float:
    """The float nearest to `micros` millionths (one correctly rounded division)."""
    return micros / SCALE
