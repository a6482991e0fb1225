"""What a model call cost (docs/REFERENCE.md#ai-cost): the provider's word, a declared
price book, or the public catalogue — never a guess.

A call is priced once, when it is applied, in billionths of the reporting currency:
its provider-reported `cost` when it carries one; else the first price-book rule that
matches its provider and model and has a price in force at the call's time; else, when
the reporting currency is USD, the `genai-prices` catalogue at the call's time. Else it
is unpriced: its tokens count, its cost is absent and counted as unpriced.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from fractions import Fraction
from typing import Final, Literal

from collector.engine.units import MONEY_SCALE, to_money
from schemas.events import AiUsage

Source = Literal["provider", "price_book", "catalogue"]
PROVIDER: Final[Source] = "provider"
PRICE_BOOK: Final[Source] = "price_book"
CATALOGUE: Final[Source] = "catalogue"
PER_TOKENS: Final = 1_000_000
"""Prices are per million tokens."""
_MONEY_PER_PRICE: Final = Fraction(MONEY_SCALE, PER_TOKENS)
_SNAPSHOT_DATE: Final = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")
"""A dated snapshot's suffix: `gpt-4o-mini-2024-07-18`, `claude-3-5-haiku-20241022`."""


def undated(model: str) -> str | None:
    """The model a dated snapshot belongs to (`gpt-4o-mini`), or None when undated."""
    base = _SNAPSHOT_DATE.sub("", model)
    return base if base != model and base else None


@dataclass(frozen=True, slots=True)
class TokenPrice:
    """Prices per million tokens in the reporting currency, exact."""

    input: Fraction
    output: Fraction
    cache_read: Fraction
    cache_write: Fraction

    def cost(self, usage: AiUsage) -> int:
        """(input − cache_read − cache_write) × input + cache_read × cacheRead
        + cache_write × cacheWrite + output × output, per million tokens, in billionths
        (rounded half-to-even once per call)."""
        read, write = usage.cache_read_tokens or 0, usage.cache_write_tokens or 0
        total = (
            (usage.input_tokens - read - write) * self.input
            + read * self.cache_read
            + write * self.cache_write
            + usage.output_tokens * self.output
        )
        return round(total * _MONEY_PER_PRICE)


@dataclass(frozen=True, slots=True)
class PriceRule:
    """One price-book entry's match and its dated versions (latest first)."""

    provider: str
    """A glob over `gen_ai.provider.name`."""
    model: str
    """A glob over the model name."""
    versions: tuple[tuple[float, TokenPrice], ...]
    """(in force from, epoch seconds; price), newest first."""
    book: str = ""

    def matches(self, provider: str, model: str) -> bool:
        return fnmatchcase(provider, self.provider) and fnmatchcase(model, self.model)

    def at(self, moment_s: float) -> TokenPrice | None:
        for since_s, price in self.versions:
            if since_s <= moment_s:
                return price
        return None


@dataclass(frozen=True)
class PriceList:
    """Every declared price-book rule in declaration order (immutable; swapped whole on
    reload). Entries with the same provider and model globs are dated versions of one
    rule; the first rule that matches a call and has a version in force prices it. A
    provider answers with a dated snapshot (`gpt-4o-mini-2024-07-18`) of the model asked
    for: when no rule matches that name, the rules are tried with the undated one."""

    rules: tuple[PriceRule, ...] = ()
    _matching: dict[tuple[str, str], tuple[PriceRule, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def price(self, provider: str, model: str, moment_s: float) -> TokenPrice | None:
        key = (provider, model)
        rules = self._matching.get(key)
        if rules is None:  # a few models per project: matched once each
            rules = tuple(rule for rule in self.rules if rule.matches(provider, model))
            base = undated(model)
            if base is not None:
                rules += tuple(rule for rule in self.rules if rule.matches(provider, base))
            self._matching[key] = rules
        for rule in rules:
            found = rule.at(moment_s)
            if found is not None:
                return found
        return None


NO_PRICES: Final = PriceList()
Catalogue = Callable[[AiUsage, float], int | None]
"""(call, its time in epoch seconds) -> its cost in billionths of USD, or None."""


@dataclass(frozen=True, slots=True)
class Priced:
    cost: int | None
    """Billionths of the reporting currency; None: unpriced."""
    source: Source | None


UNPRICED: Final = Priced(None, None)


def price_call(
    usage: AiUsage, moment_s: float, prices: PriceList, catalogue: Catalogue | None
) -> Priced:
    """The cost of one call and where it came from (see the module's docstring)."""
    if usage.cost is not None:
        return Priced(to_money(usage.cost), PROVIDER)
    price = prices.price(usage.provider, usage.model, moment_s)
    if price is not None:
        return Priced(price.cost(usage), PRICE_BOOK)
    if catalogue is not None:
        cost = catalogue(usage, moment_s)
        if cost is not None:
            return Priced(cost, CATALOGUE)
    return UNPRICED
