"""Fixed-point arithmetic so sums are exact and independent of event order.

Durations (seconds) are held as integer millionths, money as integer billionths (a
model call costs a fraction of a micro-unit: 59 tokens of a small model ≈ 0.0000165
USD). Each incoming float is rounded once, half-to-even, from its shortest decimal
representation, so `0.1 + 0.2` is exactly `0.3` and any permutation of the same events
gives bit-identical totals.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

SCALE: Final = 1_000_000
"""Durations: millionths of a second."""
MONEY_SCALE: Final = 1_000_000_000
"""Money: billionths of the currency unit."""
MICROS_TO_MONEY: Final = MONEY_SCALE // SCALE
"""State written before money was kept in billionths held millionths (exactly × 1000)."""
_QUANTUM: Final = Decimal(1)
_NOT_TIE: Final = 0.5 - 1e-3
"""How far from the nearest integer a scaled value may be and still not be near a tie."""
_FAST_LIMIT: Final = 2.0**50
_RELATIVE_ERROR: Final = 2.0**-51
"""A bound on the float product's error relative to the exact decimal product."""


def to_micros(value: float) -> int:
    """`value` (finite) in millionths, rounded half-to-even from its decimal repr.

    Fast path: the float product is within ~1e-9 of the exact decimal product for the
    magnitudes money and seconds take, so unless it sits near a .5 tie, the integer nearest
    to it is the one exact rounding gives (whole amounts too: their product is an exact
    integer below 2**50). Near a tie (only possible with more than six decimals) the exact
    Decimal arithmetic decides, and larger whole values are multiplied as integers.
    """
    scaled = value * SCALE
    if -_FAST_LIMIT < scaled < _FAST_LIMIT:
        nearest = _nearest(scaled)
        if -_NOT_TIE < scaled - nearest < _NOT_TIE:
            return nearest
    whole = int(value)
    if whole == value and -_FAST_LIMIT < value < _FAST_LIMIT:
        return whole * SCALE  # whole seconds and amounts: exact
    return int((Decimal(repr(value)) * SCALE).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN))


def _nearest(scaled: float) -> int:
    """The integer nearest to `scaled` (a tie goes up: the fast paths leave ties to the
    exact arithmetic). `floor` compiles to the machine's; `round` is a call into Python's
    (a conversion took ≈ 1,200 machine instructions with it, 85 now). Below 2**50, where
    it is called, adding a half is exact."""
    return math.floor(scaled + 0.5)


def from_micros(micros: int) -> float:
    """The float nearest to `micros` millionths (one correctly rounded division)."""
    return micros / SCALE


def to_money(value: float) -> int:
    """`value` (finite) in billionths of the currency unit, rounded half-to-even from its
    decimal repr. Fast path as `to_micros`, with the float error bounded relative to the
    product (an amount up to ~10^6 with up to 9 decimals takes it)."""
    scaled = value * MONEY_SCALE
    if -_FAST_LIMIT < scaled < _FAST_LIMIT:
        nearest = _nearest(scaled)
        if abs(scaled - nearest) < 0.5 - abs(scaled) * _RELATIVE_ERROR - 1e-3:
            return nearest
    whole = int(value)
    if whole == value and -_FAST_LIMIT < value < _FAST_LIMIT:
        return whole * MONEY_SCALE
    return int((Decimal(repr(value)) * MONEY_SCALE).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN))


def money_of_decimal(value: Decimal) -> int:
    """An exact decimal amount in billionths, rounded half-to-even."""
    return int((value * MONEY_SCALE).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN))


def from_money(amount: int) -> float:
    """The float nearest to `amount` billionths."""
    return amount / MONEY_SCALE
